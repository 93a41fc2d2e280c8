package main

import (
	"testing"

	"go.uber.org/goleak"
)

// No test leaves a goroutine behind: every save, every retry wait and the
// database pool end with the run.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
