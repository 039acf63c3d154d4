package bus

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// startServer starts the embedded nats-server described by opts and waits
// until it accepts connections.
func startServer(ctx context.Context, opts Options, log *slog.Logger) (*server.Server, error) {
	so := &server.Options{
		ServerName: opts.Name,
		NoSigs:     true,
		DontListen: opts.Listen == "",
		MaxPayload: 1 << 20,
	}
	if opts.Listen != "" {
		host, port, err := net.SplitHostPort(opts.Listen)
		if err != nil {
			return nil, fmt.Errorf("bus: listen address %q: %w", opts.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return nil, fmt.Errorf("bus: listen address %q: bad port", opts.Listen)
		}
		if p == 0 {
			p = server.RANDOM_PORT
		}
		if host == "" {
			host = "0.0.0.0"
		}
		so.Host, so.Port = host, p
	}
	if opts.JetStreamDir != "" {
		so.JetStream = true
		so.StoreDir = opts.JetStreamDir
	}
	srv, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("bus: configure embedded nats-server: %w", err)
	}
	srv.SetLoggerV2(natsLogger{log.With("nats", "server")}, false, false, false)
	go srv.Start()

	wait := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl)
	}
	if !srv.ReadyForConnections(wait) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("bus: embedded nats-server not ready after %s (listen %q)", wait, opts.Listen)
	}
	return srv, nil
}

// natsLogger routes nats-server log lines to slog. Notices are routine
// (startup banners) and go to Debug.
type natsLogger struct{ l *slog.Logger }

func (n natsLogger) Noticef(format string, v ...any) { n.l.Debug(fmt.Sprintf(format, v...)) }
func (n natsLogger) Warnf(format string, v ...any)   { n.l.Warn(fmt.Sprintf(format, v...)) }
func (n natsLogger) Fatalf(format string, v ...any)  { n.l.Error(fmt.Sprintf(format, v...)) }
func (n natsLogger) Errorf(format string, v ...any)  { n.l.Error(fmt.Sprintf(format, v...)) }
func (n natsLogger) Debugf(format string, v ...any)  { n.l.Debug(fmt.Sprintf(format, v...)) }
func (n natsLogger) Tracef(format string, v ...any)  { n.l.Debug(fmt.Sprintf(format, v...)) }
