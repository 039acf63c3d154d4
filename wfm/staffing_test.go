package wfm

import (
	"os"
	"testing"
)

// TestEvalStaffingPrint prints the Erlang A vs simulation grid (WFM_DEV=1).
func TestEvalStaffingPrint(t *testing.T) {
	if os.Getenv("WFM_DEV") == "" {
		t.Skip()
	}
	if err := EvalStaffing(os.Stdout); err != nil {
		t.Fatal(err)
	}
}
