package main

import (
	"flag"
	"io"
	"testing"
	"time"
)

// TestLivenessFlags: --disconnect-grace and --heartbeat (or their
// STARPOST_* variables) set the router's grace period and the nodes'
// heartbeat interval, which defaults to a third of the grace period.
func TestLivenessFlags(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		env        map[string]string
		grace, hb  time.Duration
		wantsError bool
	}{
		{name: "defaults", grace: time.Minute, hb: 20 * time.Second},
		{name: "grace only", args: []string{"--disconnect-grace", "9s"}, grace: 9 * time.Second, hb: 3 * time.Second},
		{name: "both", args: []string{"--disconnect-grace", "3s", "--heartbeat", "500ms"}, grace: 3 * time.Second, hb: 500 * time.Millisecond},
		{name: "environment", env: map[string]string{"STARPOST_DISCONNECT_GRACE": "30s", "STARPOST_HEARTBEAT": "2s"}, grace: 30 * time.Second, hb: 2 * time.Second},
		{name: "flag over environment", args: []string{"--heartbeat", "1s"}, env: map[string]string{"STARPOST_HEARTBEAT": "2s"}, grace: time.Minute, hb: time.Second},
		{name: "bad environment", env: map[string]string{"STARPOST_DISCONNECT_GRACE": "soon"}, wantsError: true},
		{name: "negative grace", args: []string{"--disconnect-grace", "-1s"}, wantsError: true},
		{name: "heartbeat too short", args: []string{"--heartbeat", "1ms"}, wantsError: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var c config
			c.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			grace, hb, err := c.liveness()
			if tc.wantsError {
				if err == nil {
					t.Fatalf("liveness() = %s, %s; want an error", grace, hb)
				}
				return
			}
			if err != nil || grace != tc.grace || hb != tc.hb {
				t.Fatalf("liveness() = %s, %s, %v; want %s, %s", grace, hb, err, tc.grace, tc.hb)
			}
		})
	}
}
