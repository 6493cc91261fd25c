package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// moduleRoot finds the esshim module root from the working directory, so
// that `go run ./bench` works from anywhere inside the repository.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(mod, []byte("module github.com/esshim/esshim\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the esshim module (no go.mod of github.com/esshim/esshim above the working directory)")
		}
		dir = parent
	}
}

// goCommand runs the go tool of $GO (as the Makefile does), or of PATH.
func goCommand(root string, env []string, args ...string) ([]byte, error) {
	goBin := os.Getenv("GO")
	if goBin == "" {
		goBin = "go"
	}
	cmd := exec.Command(goBin, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// The flags of the Makefile's wasm build, so that both wasm files of the
// cold-load figure come out of the same toolchain settings.
const wasmLDFlags = "-ldflags=-s -w"

var wasmEnv = []string{"GOOS=js", "GOARCH=wasm"}

// buildHello builds the hello-world baseline of the cold-load figure into
// dir: hello.wasm, and hello.js, its loader bundled with wasm_exec.js the
// way the Makefile bundles esshim.js.
func buildHello(root, dir string) error {
	if _, err := goCommand(root, wasmEnv, "build", "-trimpath", wasmLDFlags, "-o", filepath.Join(dir, "hello.wasm"), "./bench/hello"); err != nil {
		return err
	}
	goroot, err := goCommand(root, nil, "env", "GOROOT")
	if err != nil {
		return err
	}
	wasmExec, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return err
	}
	loader, err := os.ReadFile(filepath.Join(root, "bench", "hello", "loader.js"))
	if err != nil {
		return err
	}
	var js bytes.Buffer
	js.WriteString("const Go = (() => {\nconst previousGo = globalThis.Go;\n")
	js.Write(wasmExec)
	js.WriteString("\nconst bundledGo = globalThis.Go;\nif (previousGo === undefined) delete globalThis.Go; else globalThis.Go = previousGo;\nreturn bundledGo;\n})();\n")
	js.Write(loader)
	return os.WriteFile(filepath.Join(dir, "hello.js"), js.Bytes(), 0o644)
}

// buildNamedWasm builds esshim's wasm as the Makefile does but keeps the
// name section (no -s), so that a CPU profile names Go functions instead
// of wasm-function[1234]. Only the profiler uses it.
func buildNamedWasm(root, dir string) (string, error) {
	out := filepath.Join(dir, "esshim-named.wasm")
	_, err := goCommand(root, wasmEnv, "build", "-trimpath", "-ldflags=-X main.version=bench-named", "-o", out, "./wasm")
	return out, err
}
