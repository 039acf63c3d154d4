package http_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	sphttp "github.com/starpost/starpost/http"
)

// TestOpenAPIMatchesRoutes keeps the OpenAPI document true: every route is
// documented with its method and path, every documented operation is a
// route, and the documented access level matches the route table.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(sphttp.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]string{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				OperationID string `json:"operationId"`
				Access      string `json:"x-starpost-access"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId", method, path)
			}
			documented[strings.ToUpper(method)+" "+path] = op.Access
		}
	}
	routes := map[string]string{}
	for _, rt := range (&sphttp.Server{}).Routes() {
		k := rt.Method + " " + rt.Pattern
		if _, dup := routes[k]; dup {
			t.Errorf("route %s declared twice", k)
		}
		routes[k] = string(rt.Access)
	}
	var missing, extra []string
	for k, access := range routes {
		got, ok := documented[k]
		if !ok {
			missing = append(missing, k)
		} else if got != access {
			t.Errorf("%s: documented access %q, route table %q", k, got, access)
		}
	}
	for k := range documented {
		if _, ok := routes[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.json:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("documented operations that are not routes:\n  %s", strings.Join(extra, "\n  "))
	}
}

func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	r := e.anon().do("GET", "/api/v1/openapi.json", nil)
	if r.status != 200 || !json.Valid(r.body) {
		t.Fatalf("status %d", r.status)
	}
}
