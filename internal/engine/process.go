package engine

import (
	"context"

	"github.com/echoconf/echoconf/internal/process"
)

// ExecSpec describes a server that Run starts itself (exec mode).
type ExecSpec = process.Spec

// ServerInfo describes the server process of an exec-mode run.
type ServerInfo = process.Info

// Process is a server started by StartProcess, to be checked by address.
type Process = process.Server

// ErrCommand is wrapped by Run's error when an exec command cannot be run.
var ErrCommand = process.ErrCommand

// StartProcess starts x and returns once the server accepts connections.
func StartProcess(ctx context.Context, x ExecSpec) (*Process, error) {
	return process.Start(ctx, x)
}
