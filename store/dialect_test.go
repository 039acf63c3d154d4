package store

import "testing"

func TestDialectRebind(t *testing.T) {
	tests := []struct {
		d          dialect
		query, out string
	}{
		{sqliteDialect, "SELECT a FROM t WHERE x = ? AND y IN (?, ?)", "SELECT a FROM t WHERE x = ? AND y IN (?, ?)"},
		{postgresDialect, "SELECT a FROM t WHERE x = ? AND y IN (?, ?)", "SELECT a FROM t WHERE x = $1 AND y IN ($2, $3)"},
		{postgresDialect, "SELECT 1", "SELECT 1"},
		{postgresDialect, "INSERT INTO t VALUES " + "(?, ?), (?, ?), (?, ?), (?, ?), (?, ?), (?)", "INSERT INTO t VALUES ($1, $2), ($3, $4), ($5, $6), ($7, $8), ($9, $10), ($11)"},
	}
	for _, tt := range tests {
		if got := tt.d.q(tt.query); got != tt.out {
			t.Errorf("%s: q(%q) = %q, want %q", tt.d.name, tt.query, got, tt.out)
		}
	}
	if got := placeholders(3); got != "?, ?, ?" {
		t.Errorf("placeholders(3) = %q", got)
	}
}
