package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// The checks leave no goroutine behind, from this library or the others.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
