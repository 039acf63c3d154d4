package wfm

import (
	"os"
	"testing"
)

func TestEvalStaffingPrint(t *testing.T) {
	if os.Getenv("WFM_DEV") == "" {
		t.Skip()
	}
	if err := EvalStaffing(os.Stdout); err != nil {
		t.Fatal(err)
	}
}
