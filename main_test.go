package retry_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test of the package runs under goleak: when they are done, no
// goroutine that a test started through Do is left behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
