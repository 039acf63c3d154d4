package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/starpost/starpost/wfm/cli"
)

// A planner's requirement curve for one morning, in a spreadsheet export,
// scheduled with the built-in templates: the shifts go to stdout as CSV
// and the report (cost, proven lower bound, gap) to stderr.
func ExampleRun() {
	dir, err := os.MkdirTemp("", "wfm")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	req := filepath.Join(dir, "requirements.csv")
	body := "interval,agents,scheduled\n"
	for h, n := range []int{2, 3, 3, 3, 2, 2, 2, 2} {
		body += fmt.Sprintf("2026-11-11T%02d:00:00Z,%d,%d\n", 8+h, n, n)
	}
	if err := os.WriteFile(req, []byte(body), 0o600); err != nil {
		panic(err)
	}
	var report bytes.Buffer
	err = cli.Run(context.Background(), []string{"schedule", "--requirements", req, "--time", "2s"}, os.Stdout, &report)
	if err != nil {
		fmt.Println(err)
	}
	for _, l := range strings.Split(report.String(), "\n") {
		if !strings.HasPrefix(l, "time ") && l != "" {
			fmt.Println(l)
		}
	}
	// Output:
	// shift,template,start,end,paid_hours,agents,breaks
	// 1,part-4h,2026-11-11T08:00:00Z,2026-11-11T12:00:00Z,4.00,3,
	// 2,part-4h,2026-11-11T12:00:00Z,2026-11-11T16:00:00Z,4.00,2,
	// 8 intervals of 1h0m0s, 8 shift columns; requirement 19.0 agent-hours
	// schedule: 5 agent-shifts, cost 20.00 paid hours
	// lower bound 20.00 paid hours (LP relaxation 20.000, optimal); gap 0.00 %
}
