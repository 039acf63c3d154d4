package http_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/auth"
	"github.com/starpost/starpost/bus"
	sphttp "github.com/starpost/starpost/http"
	"github.com/starpost/starpost/store"
)

// Example wires the API the way cmd/starpost does: a store, a bus, a
// secret, then Handler served by an http.Server.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "starpost-example")
	defer os.RemoveAll(dir)
	clock := starpost.SystemClock{}
	db, err := store.Open(ctx, filepath.Join(dir, "starpost.db"), clock, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	b, err := bus.Open(ctx, bus.Options{Store: db})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	// The demo administrator.
	ws := &starpost.Workspace{Name: "Demo"}
	_ = db.CreateWorkspace(ctx, ws)
	hash, _ := auth.HashPassword("demo-password")
	_ = db.CreateUser(ctx, &starpost.User{WorkspaceID: ws.ID, Email: "admin@demo.test", Name: "Admin",
		Role: starpost.RoleAdmin, Skills: []starpost.Skilled{}, Capacity: map[starpost.Channel]int{}}, hash)

	srv := &sphttp.Server{
		Store: db, Bus: b, Clock: clock,
		Secret:   []byte("a secret of at least thirty-two bytes!"),
		Registry: prometheus.NewRegistry(),
	}
	ts := httptest.NewServer(srv.Handler()) // cmd/starpost: &http.Server{Handler: srv.Handler()}
	defer ts.Close()

	res, err := http.Post(ts.URL+"/api/v1/login", "application/json",
		strings.NewReader(`{"email":"admin@demo.test","password":"demo-password"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Println("login:", res.StatusCode)
	// Output: login: 200
}
