package main

import (
	"testing"

	"github.com/voxpersona/retry/bench"
)

func TestFrameSize(t *testing.T) {
	if f := frameSize(); f < 16 || f > 256 {
		t.Fatalf("frameSize() = %d B, want a small frame", f)
	}
}

// A parked call holds at least the smallest goroutine stack, and deeper
// padding never makes it smaller.
func TestProbe(t *testing.T) {
	hand := bench.Peers[1]
	if hand.Name != "hand-loop" {
		t.Fatalf("Peers[1] is %q, want hand-loop", hand.Name)
	}
	shallow := probe(hand, 0)
	if shallow < 2048 || shallow > 16384 {
		t.Fatalf("probe(hand-loop, 0) = %.0f B per parked call, want 2 KB to 16 KB", shallow)
	}
	// 200 frames of pad are several KB: the stacks must have grown.
	if deep := probe(hand, 200); deep <= shallow {
		t.Fatalf("probe(hand-loop, 200) = %.0f B, not above probe(hand-loop, 0) = %.0f B", deep, shallow)
	}
}
