package sim

import "testing"

func TestAngryLine(t *testing.T) {
	tests := []struct {
		question string
		turn     int
		want     string
	}{
		{"我的订单什么时候发货？", 0, angry[true][0]},
		{"我的订单什么时候发货？", 1, angry[true][1]},
		{"我的订单什么时候发货？", 5, angry[true][1]},
		{"Where is my parcel?", 0, angry[false][0]},
		{"Where is my parcel?", 1, angry[false][1]},
	}
	for _, tt := range tests {
		if got := angryLine(tt.question, tt.turn); got != tt.want {
			t.Errorf("angryLine(%q, %d) = %q, want %q", tt.question, tt.turn, got, tt.want)
		}
	}
}
