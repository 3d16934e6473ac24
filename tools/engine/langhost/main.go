// pulumi-language-python: a small Python language host for the Pulumi engine.
//
// Why this exists: the upstream language host lives in its own Go module
// (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) that the
// Go module proxy reachable from our machines does not serve at any version,
// so it cannot be built here. This program implements the same gRPC
// LanguageRuntime contract for the parts `pulumi preview/up/destroy/refresh/
// install/about/plugin ls` use, and runs programs through the upstream
// `pulumi-language-python-exec` script (copied out of the pinned sdk/v3
// module), exactly as the upstream host does. Python discovery, virtualenvs
// and pip/poetry/uv handling come from the pinned sdk/v3 module's
// python/toolchain package (the code the upstream host uses). RunPlugin runs
// Python plugins, which is how the engine starts Python policy packs
// (`--policy-pack DIR`) and Python-written providers.
//
// Not implemented (the engine gets "Unimplemented"): code generation
// (GenerateProject/GenerateProgram/GeneratePackage, used by `pulumi convert`,
// `pulumi import --out`, `pulumi package gen-sdk`), Pack, Template, Link and
// debugger attach.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Exit code the exec script uses after it has already shown the user an
// actionable error: the engine should not add its own error on top.
const userActionableExitCode = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	execScript    string
	engineAddress string
	tracing       string
	// Legacy command-line options (older engines passed runtime options as flags).
	flagVirtualenv string
	flagToolchain  string
}

func main() {
	h := &host{}
	var positional []string
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			positional = append(positional, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "version" {
			fmt.Println(version.Version)
			return
		}
		takesValue := map[string]bool{"tracing": true, "root": true, "virtualenv": true, "toolchain": true,
			"typechecker": true, "use-executor": true}
		if takesValue[name] && !hasVal && i+1 < len(args) {
			i++
			val = args[i]
		}
		switch name {
		case "tracing":
			h.tracing = val
		case "virtualenv":
			h.flagVirtualenv = val
		case "toolchain":
			h.flagToolchain = val
		case "use-executor":
			h.execScript = val
		}
		// Other flags (-v=N, --logtostderr, -root, ...) are accepted and ignored.
	}
	if len(positional) > 0 {
		h.engineAddress = positional[0]
	}
	if h.execScript == "" {
		self, err := os.Executable()
		if err == nil {
			self, _ = filepath.EvalSymlinks(self)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "pulumi-language-python: cannot locate own executable: %v\n", err)
			os.Exit(1)
		}
		h.execScript = filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")
	}
	if _, err := os.Stat(h.execScript); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: exec script missing: %v\n", err)
		os.Exit(1)
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: could not start RPC server: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: RPC server stopped: %v\n", err)
		os.Exit(1)
	}
}

// options reads runtime options (Pulumi.yaml `runtime.options`) for a program.
// The legacy command-line flags are defaults that the options override.
func (h *host) options(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	return parseOptions(info, h.flagVirtualenv, h.flagToolchain)
}

// parseOptions reads `runtime.options` (Pulumi.yaml, PulumiPolicy.yaml or
// PulumiPlugin.yaml) from info: toolchain, virtualenv (relative to the root
// directory), typechecker.
func parseOptions(info *pulumirpc.ProgramInfo, virtualenv, tc string) (toolchain.PythonOptions, error) {
	opts := toolchain.PythonOptions{Virtualenv: virtualenv}
	var typechecker string
	if info != nil {
		opts.Root = info.GetRootDirectory()
		opts.ProgramDir = info.GetProgramDirectory()
		m := info.GetOptions().AsMap()
		if v, ok := m["virtualenv"].(string); ok {
			opts.Virtualenv = v
		}
		if v, ok := m["toolchain"].(string); ok {
			tc = v
		}
		if v, ok := m["typechecker"].(string); ok {
			typechecker = v
		}
	}
	switch strings.ToLower(tc) {
	case "", "auto":
		opts.Toolchain = toolchain.Auto
	case "pip":
		opts.Toolchain = toolchain.Pip
	case "poetry":
		opts.Toolchain = toolchain.Poetry
	case "uv":
		opts.Toolchain = toolchain.Uv
	default:
		return opts, fmt.Errorf("unsupported toolchain option: %q", tc)
	}
	switch strings.ToLower(typechecker) {
	case "":
		opts.Typechecker = toolchain.TypeCheckerNone
	case "mypy":
		opts.Typechecker = toolchain.TypeCheckerMypy
	case "pyright":
		opts.Typechecker = toolchain.TypeCheckerPyright
	default:
		return opts, fmt.Errorf("unsupported typechecker option: %q", typechecker)
	}
	return opts, nil
}

// pluginOptions reads the runtime options of a plugin (policy pack, provider).
// As upstream: plugins never run in the global or ambient Python, so the pip
// toolchain without a `virtualenv` option means `venv` in the plugin's
// directory. The host's legacy flags belong to the program and do not apply.
func pluginOptions(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	opts, err := parseOptions(info, "", "")
	if err == nil && opts.Toolchain == toolchain.Pip && opts.Virtualenv == "" {
		opts.Virtualenv = "venv"
	}
	return opts, err
}

func (h *host) toolchain(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, toolchain.PythonOptions, error) {
	opts, err := h.options(info)
	if err != nil {
		return nil, opts, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	return tc, opts, err
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// pluginScan runs in the program's Python and reports every installed
// distribution that ships a pulumi-plugin.json marking it as a resource plugin.
const pluginScan = `
import json, sys
from importlib import metadata
out = []
for d in metadata.distributions():
    for f in (d.files or []):
        if f.name != "pulumi-plugin.json":
            continue
        try:
            data = json.loads(f.read_text() or "{}")
        except Exception:
            continue
        if not data.get("resource"):
            continue
        out.append({"name": data.get("name") or d.metadata["Name"],
                    "version": data.get("version") or d.version,
                    "server": data.get("server") or "",
                    "parameterization": data.get("parameterization")})
json.dump(out, sys.stdout)
`

type scannedPlugin struct {
	Name             string `json:"name"`
	Version          string `json:"version"`
	Server           string `json:"server"`
	Parameterization *struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Value   []byte `json:"value"`
	} `json:"parameterization"`
}

func (h *host) scanPlugins(ctx context.Context, info *pulumirpc.ProgramInfo) ([]scannedPlugin, error) {
	tc, _, err := h.toolchain(info)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", pluginScan)
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing Pulumi plugins of installed Python packages: %w: %s", err, stderr.String())
	}
	var plugins []scannedPlugin
	if err := json.Unmarshal(out, &plugins); err != nil {
		return nil, fmt.Errorf("parsing plugin list: %w", err)
	}
	return plugins, nil
}

func withV(v string) string {
	if v != "" && !strings.HasPrefix(v, "v") {
		return "v" + v
	}
	return v
}

func (h *host) GetRequiredPlugins(ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	plugins, err := h.scanPlugins(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPluginsResponse{}
	for _, p := range plugins {
		resp.Plugins = append(resp.Plugins, &pulumirpc.PluginDependency{
			Name: p.Name, Kind: "resource", Version: withV(p.Version), Server: p.Server,
		})
	}
	return resp, nil
}

func (h *host) GetRequiredPackages(ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	plugins, err := h.scanPlugins(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, p := range plugins {
		dep := &pulumirpc.PackageDependency{
			Name: p.Name, Kind: "resource", Version: withV(p.Version), Server: p.Server,
		}
		if p.Parameterization != nil {
			dep.Parameterization = &pulumirpc.PackageParameterization{
				Name: p.Parameterization.Name, Version: p.Parameterization.Version, Value: p.Parameterization.Value,
			}
		}
		resp.Packages = append(resp.Packages, dep)
	}
	return resp, nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	tc, opts, err := h.toolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	if req.GetAttachDebugger() {
		return nil, status.Error(codes.Unimplemented, "debugger attach is not supported by this language host")
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return &pulumirpc.RunResponse{Error: err.Error() + " (run `pulumi install` to create it)"}, nil
	}

	if opts.Typechecker != toolchain.TypeCheckerNone {
		module := "mypy"
		if opts.Typechecker == toolchain.TypeCheckerPyright {
			module = "pyright"
		}
		cmd, err := tc.ModuleCommand(ctx, module, programDir(req))
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("%s type checking failed: %v", module, err)}, nil
		}
	}

	args := []string{"-u", h.execScript}
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", fmt.Sprintf("%v", req.GetDryRun()))
	add("parallel", fmt.Sprint(req.GetParallel()))
	add("tracing", h.tracing)
	add("organization", req.GetOrganization())
	if info := req.GetInfo(); info != nil {
		add("root_directory", info.GetRootDirectory())
	}
	args = append(args, programPath(req))
	args = append(args, req.GetArgs()...)

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	if cfg := req.GetConfig(); cfg != nil {
		b, err := json.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("serializing configuration: %w", err)
		}
		env = append(env, "PULUMI_CONFIG="+string(b))
	}
	if keys := req.GetConfigSecretKeys(); keys != nil {
		b, err := json.Marshal(keys)
		if err != nil {
			return nil, fmt.Errorf("serializing configuration secret keys: %w", err)
		}
		env = append(env, "PULUMI_CONFIG_SECRET_KEYS="+string(b))
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == userActionableExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err),
		}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

func programDir(req *pulumirpc.RunRequest) string {
	if info := req.GetInfo(); info != nil && info.GetProgramDirectory() != "" {
		return info.GetProgramDirectory()
	}
	if req.GetPwd() != "" {
		return req.GetPwd()
	}
	return "."
}

// programPath is what the exec script hands to runpy.run_path: a file, or a
// directory holding __main__.py.
func programPath(req *pulumirpc.RunRequest) string {
	if info := req.GetInfo(); info != nil && info.GetProgramDirectory() != "" {
		entry := info.GetEntryPoint()
		if entry == "" {
			entry = "."
		}
		return filepath.Join(info.GetProgramDirectory(), entry)
	}
	if req.GetProgram() != "" {
		return req.GetProgram()
	}
	return "."
}

// sendWriter turns writes into messages on a server stream. exec.Cmd copies a
// child's stdout and stderr in two goroutines, and a gRPC stream must not be
// sent on from two goroutines at once: the writers of one stream share mu.
type sendWriter struct {
	mu   *sync.Mutex
	send func([]byte) error
}

func (w sendWriter) Write(p []byte) (int, error) {
	b := append([]byte(nil), p...) // the message may outlive p
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.send(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// streamWriters returns stdout and stderr writers for one server stream.
func streamWriters(stdout, stderr func([]byte) error) (io.Writer, io.Writer) {
	mu := &sync.Mutex{}
	return sendWriter{mu: mu, send: stdout}, sendWriter{mu: mu, send: stderr}
}

func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	srv grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	info := req.GetInfo()
	if info == nil {
		info = &pulumirpc.ProgramInfo{RootDirectory: req.GetDirectory(), ProgramDirectory: req.GetDirectory()}
	}
	var opts toolchain.PythonOptions
	var err error
	if req.GetIsPlugin() {
		// `pulumi install` in a policy pack or plugin directory: the same
		// virtualenv RunPlugin will use.
		opts, err = pluginOptions(info)
	} else {
		opts, err = h.options(info)
	}
	if err != nil {
		return err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	stdout, stderr := streamWriters(
		func(b []byte) error { return srv.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b}) },
		func(b []byte) error { return srv.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b}) },
	)
	ctx := srv.Context()
	dir := info.GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory()
	}
	if err := tc.InstallDependencies(ctx, dir, req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
		return fmt.Errorf("installing dependencies: %w", err)
	}
	return nil
}

// RunPlugin runs a Python plugin: the engine calls it for a policy pack
// directory (PulumiPolicy.yaml, e.g. `pulumi preview --policy-pack DIR`) and
// for a provider written in Python (PulumiPlugin.yaml). As upstream:
//
//   - a directory with __main__.py runs as `python DIR ARGS...`;
//   - otherwise a buildable Python package (pyproject.toml) runs as
//     `python -m pulumi.run.plugin NAME ARGS...`.
//
// ARGS are the engine's (its address, then logging/tracing flags). The plugin
// prints its gRPC port on stdout; stdout and stderr are streamed back to the
// engine, which reads the port from them, and the exit code is sent last.
// Stopping the plugin cancels the stream, which kills the Python process.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest,
	srv grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	if req.GetAttachDebugger() {
		return status.Error(codes.Unimplemented, "debugger attach is not supported by this language host")
	}
	info := req.GetInfo()
	if info == nil || info.GetProgramDirectory() == "" {
		return errors.New("RunPlugin: no plugin directory given")
	}
	opts, err := pluginOptions(info)
	if err != nil {
		return err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	ctx := srv.Context()
	// Upstream just runs the virtualenv's python and fails on a missing one
	// with "no such file"; say what to do instead.
	if err := tc.ValidateVenv(ctx); err != nil {
		return fmt.Errorf("%w (run `pulumi install` in %s)", err, info.GetRootDirectory())
	}

	cmd, err := pluginCommand(ctx, tc, opts, info, req.GetArgs())
	if err != nil {
		return err
	}

	// The CLI sends the plugin's complete environment (its own plus what the
	// plugin needs, e.g. per-pack ESC variables). The toolchain's virtualenv
	// activation goes on top: appended after the CLI's PATH and VIRTUAL_ENV
	// (as upstream does) it would be overridden by them.
	env := req.GetEnv()
	if len(env) == 0 {
		env = os.Environ()
	}
	if venv := lookupEnv(cmd.Env, "VIRTUAL_ENV"); venv != "" {
		env = toolchain.ActivateVirtualEnv(wellFormedEnv(env), venv)
	}
	cmd.Env = env
	if req.GetPwd() != "" {
		cmd.Dir = req.GetPwd()
	}
	cmd.Stdout, cmd.Stderr = streamWriters(
		func(b []byte) error {
			return srv.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
		},
		func(b []byte) error {
			return srv.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
		},
	)
	// A grandchild that inherited stdout/stderr must not keep RunPlugin (and
	// the engine waiting on it) alive once the plugin has exited or was killed.
	cmd.WaitDelay = 5 * time.Second

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok {
				// The engine turns a non-zero code into "exit status N".
				return srv.Send(&pulumirpc.RunPluginResponse{
					Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(ws.ExitStatus())},
				})
			}
			return fmt.Errorf("plugin exited unexpectedly: %w", exitErr)
		}
		return fmt.Errorf("problem executing plugin program (could not run python): %w", err)
	}
	// A clean exit ends the stream; the engine reads that as exit code 0.
	return nil
}

// pluginCommand builds the command line for RunPlugin (see there).
func pluginCommand(ctx context.Context, tc toolchain.Toolchain, opts toolchain.PythonOptions,
	info *pulumirpc.ProgramInfo, args []string,
) (*exec.Cmd, error) {
	mainPy := filepath.Join(opts.Root, "__main__.py")
	if _, err := os.Stat(mainPy); err == nil {
		return tc.Command(ctx, append([]string{info.GetProgramDirectory()}, args...)...)
	} else if !os.IsNotExist(err) {
		return nil, fmt.Errorf("looking for __main__.py: %w", err)
	}

	// No __main__.py. Upstream then uses the SDK's plugin entry point if the
	// installed pulumi package has it (older ones do not) and otherwise still
	// runs the directory, which fails with Python's own message.
	check, err := tc.Command(ctx, "-c", "import pulumi.run.plugin")
	if err != nil {
		return nil, err
	}
	if out, err := check.CombinedOutput(); err != nil && strings.Contains(string(out), "ModuleNotFoundError") {
		return tc.Command(ctx, append([]string{info.GetProgramDirectory()}, args...)...)
	}
	buildable, err := toolchain.IsBuildablePackage(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("checking if plugin is a buildable package: %w", err)
	}
	if !buildable {
		return nil, errors.New("plugin is not runnable, it provides neither __main__.py nor a buildable pyproject.toml")
	}
	pyproject, err := toolchain.LoadPyproject(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("loading pyproject: %w", err)
	}
	return tc.ModuleCommand(ctx, "pulumi.run.plugin", append([]string{pyproject.Project.Name}, args...)...)
}

// lookupEnv returns the last value of key in env ("" if absent), which is the
// value a child process sees.
func lookupEnv(env []string, key string) string {
	val := ""
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			val = v
		}
	}
	return val
}

// wellFormedEnv drops entries without "=", on which ActivateVirtualEnv asserts.
func wellFormedEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if strings.Contains(kv, "=") {
			out = append(out, kv)
		}
	}
	return out
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	tc, _, err := h.toolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
		Metadata:   map[string]string{"toolchain": info.ToolchainVersion.String()},
	}, nil
}

func (h *host) GetProgramDependencies(ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, _, err := h.toolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	deps, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, d := range deps {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return resp, nil
}

func (h *host) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}
