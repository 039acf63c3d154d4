package wfm

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestReadHistory(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    int
		wantErr bool
	}{
		{"planner", "interval,count\n2024-11-11 09:00,12\n2024-11-11 09:15,7\n", 2, false},
		{"bank", "rownames,DateTime,Calls\n1,2003-03-03T07:00:00Z,111\n", 1, false},
		{"aht", "start,contacts,aht\n2024-11-11T09:00:00Z,10,300\n", 1, false},
		{"no count column", "interval,x\n2024-11-11 09:00,1\n", 0, true},
		{"negative", "interval,count\n2024-11-11 09:00,-1\n", 0, true},
		{"bad time", "interval,count\nyesterday,1\n", 0, true},
		{"empty", "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs, err := ReadHistory(strings.NewReader(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if len(obs) != tc.want {
				t.Fatalf("%d observations, want %d", len(obs), tc.want)
			}
		})
	}
	obs, err := ReadHistory(strings.NewReader("start,contacts,aht\n2024-11-11T09:00:00Z,10,300\n"))
	if err != nil || obs[0].HandleSeconds != 3000 {
		t.Fatalf("handle seconds %v, err %v", obs, err)
	}
}

func TestWriteForecastRoundTrip(t *testing.T) {
	start := time.Date(2024, 11, 11, 9, 0, 0, 0, time.UTC)
	fc := []IntervalForecast{{Start: start, Contacts: 12.5, HandleTime: 240 * time.Second}, {Start: start.Add(15 * time.Minute), Contacts: 3}}
	var buf bytes.Buffer
	if err := WriteForecast(&buf, fc); err != nil {
		t.Fatal(err)
	}
	obs, err := ReadHistory(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 2 || obs[0].Count != 12.5 || !obs[1].Start.Equal(fc[1].Start) {
		t.Fatalf("round trip: %+v", obs)
	}
}

func FuzzReadHistory(f *testing.F) {
	f.Add("interval,count\n2024-11-11 09:00,12\n")
	f.Add("rownames,DateTime,Calls\n1,2003-03-03T07:00:00Z,111\n")
	f.Add("start,contacts,aht\n2024-11-11T09:00:00Z,10,300\n2024-11-11T09:15:00Z,1e3,\n")
	f.Add("interval,count\n\"2024-11-11 09:00\",NaN\n")
	f.Fuzz(func(t *testing.T, in string) {
		obs, err := ReadHistory(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, o := range obs {
			if o.Count < 0 || o.Count != o.Count || o.HandleSeconds < 0 {
				t.Fatalf("invalid observation %+v", o)
			}
		}
		// Whatever parses must aggregate without panicking.
		if len(obs) > 0 {
			_, _ = BuildSeries(obs, Grid{DayStart: 0, DayEnd: 24 * time.Hour, Step: time.Hour})
		}
	})
}
