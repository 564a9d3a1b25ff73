package main

import (
	"context"
	"fmt"

	"github.com/inkform/inkform/apply"
	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/hcl"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/state"
)

// workspace is a loaded configuration with its state store, locked: what
// plan and apply work in.
type workspace struct {
	cfg   *hcl.Config
	store state.Store
	lock  *state.Lock
	// io takes the open-files warning; connect reaches the printers.
	io      streams
	connect connectFunc
	// warnedFiles: the open-files warning was shown (apply plans first).
	warnedFiles bool
	// lockReported: the command said the lock was lost; close need not.
	lockReported bool
}

// openWorkspace loads the configuration, opens its state and takes the
// lock for command. A read-only command (a plan that is not saved) does
// not create a state that does not exist yet: it plans against an empty
// one, as a first apply would find.
func (o *planningOptions) openWorkspace(ctx context.Context, command string, readOnly bool) (*workspace, error) {
	cfg, err := o.State.load(o.IO)
	if err != nil {
		return nil, err
	}
	loc, err := o.State.location(o.IO, cfg)
	if err != nil {
		return nil, err
	}
	open := openState
	if readOnly {
		open = openExisting
	}
	st, err := open(ctx, o.IO, o.OpenStore, loc)
	if err != nil {
		return nil, err
	}
	lock, err := lockState(ctx, st, command, o.Lock.Timeout)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &workspace{cfg: cfg, store: st, lock: lock, io: o.IO, connect: o.Connect}, nil
}

func (ws *workspace) close(ctx context.Context) {
	ws.warnUnlock(ws.lock.Unlock(context.WithoutCancel(ctx)))
	_ = ws.store.Close()
}

// newPlanner plans n printers of the workspace with its catalog (the
// built-in one plus its setting blocks), keeping the printers in flight
// within the open-files limit.
func (ws *workspace) newPlanner(parallelism, n int, prog *progress) *planner.Planner {
	cat, conn, limits := ws.reach(parallelism, n)
	return &planner.Planner{
		Observer: observer.Observer{Connector: conn, Limits: limits, Progress: callback(prog)},
		State:    ws.store,
		Catalog:  cat,
	}
}

// newApplier applies plans of n printers as newPlanner plans them.
func (ws *workspace) newApplier(parallelism, n int, prog *progress) *apply.Applier {
	cat, conn, limits := ws.reach(parallelism, n)
	return &apply.Applier{
		Connector:      conn,
		State:          ws.store,
		Catalog:        cat,
		Limits:         limits,
		Progress:       callback(prog),
		UploadProgress: uploadCallback(prog),
	}
}

// reach returns the workspace's catalog, and a connector to n printers
// with the limits it is used within.
func (ws *workspace) reach(parallelism, n int) (*catalog.Catalog, providers.Connector, observer.Limits) {
	cat := ws.cfg.Catalog
	if cat == nil {
		cat = catalog.Default()
	}
	limits := ws.limits(n, parallelism)
	return cat, ws.connect(cat, ws.cfg.Devices, limits.MaxInFlight), limits
}

// limits are the observer's limits for n printers, said once on stderr
// when the open-files limit lowers them.
func (ws *workspace) limits(n, parallelism int) observer.Limits {
	l, warning := observer.NewLimits(parallelism, n)
	if warning != "" && !ws.warnedFiles {
		ws.warnedFiles = true
		fmt.Fprintf(ws.io.Err, "Warning: %s\n", warning)
	}
	return l
}
