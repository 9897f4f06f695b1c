// Command oracle runs the Go code faas-cli 0.18.12 uses to read a stack file, over cases read as
// JSON on stdin, and prints what it did as JSON on stdout:
//
//   - envsubst: github.com/drone/envsubst Parse + Execute, with the case's variables as the
//     mapping (a variable the case does not set reads as "", as go-sdk's substituteEnvironment does);
//   - stacks: github.com/openfaas/go-sdk/stack ParseYAMLData(text, "", "", true) with the process
//     environment replaced by the case's variables (ParseYAMLData reads os.LookupEnv itself);
//   - envFiles: yaml.v3 Unmarshal into stack.EnvironmentFile, as faas-cli's readFiles does.
//
// The TypeScript port (components/functions/envsubst.ts, stack-yml.ts) is checked against this
// output in tests/functions/envsubst-oracle.test.ts. See run.sh.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"unicode/utf8"

	"github.com/drone/envsubst"
	"github.com/openfaas/go-sdk/stack"
	yaml "gopkg.in/yaml.v3"
)

type envsubstCase struct {
	ID string `json:"id"`
	// Input is the template text; InputBase64, when set, carries bytes JSON cannot (invalid UTF-8).
	Input       string            `json:"input"`
	InputBase64 string            `json:"inputBase64,omitempty"`
	Env         map[string]string `json:"env"`
}

type stackCase struct {
	ID   string            `json:"id"`
	Text string            `json:"text"`
	Env  map[string]string `json:"env"`
}

type envFileCase struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

type input struct {
	Envsubst []envsubstCase `json:"envsubst"`
	Stacks   []stackCase    `json:"stacks"`
	EnvFiles []envFileCase  `json:"envFiles"`
}

type envsubstResult struct {
	ID string `json:"id"`
	OK bool   `json:"ok"`
	// Output is set when the result is valid UTF-8; OutputBase64 when it is not.
	Output       *string `json:"output,omitempty"`
	OutputBase64 string  `json:"outputBase64,omitempty"`
	Error        string  `json:"error,omitempty"`
}

type resources struct {
	Memory string `json:"memory"`
	CPU    string `json:"cpu"`
}

type function struct {
	Image                  string             `json:"image"`
	FProcess               string             `json:"fprocess"`
	Environment            map[string]string  `json:"environment"`
	EnvironmentFile        []string           `json:"environment_file"`
	Secrets                []string           `json:"secrets"`
	Labels                 *map[string]string `json:"labels"`
	Annotations            *map[string]string `json:"annotations"`
	Limits                 *resources         `json:"limits"`
	Requests               *resources         `json:"requests"`
	ReadOnlyRootFilesystem bool               `json:"readonly_root_filesystem"`
	Constraints            *[]string          `json:"constraints"`
	Namespace              string             `json:"namespace"`
}

type parsedStack struct {
	Version   string              `json:"version"`
	Provider  string              `json:"provider"`
	Functions map[string]function `json:"functions"`
}

type stackResult struct {
	ID    string       `json:"id"`
	OK    bool         `json:"ok"`
	Stack *parsedStack `json:"stack,omitempty"`
	Error string       `json:"error,omitempty"`
}

type envFileResult struct {
	ID          string            `json:"id"`
	OK          bool              `json:"ok"`
	Environment map[string]string `json:"environment,omitempty"`
	Error       string            `json:"error,omitempty"`
}

type output struct {
	Go       string            `json:"go"`
	Modules  map[string]string `json:"modules"`
	Envsubst []envsubstResult  `json:"envsubst"`
	Stacks   []stackResult     `json:"stacks"`
	EnvFiles []envFileResult   `json:"envFiles"`
}

func modules() map[string]string {
	out := map[string]string{}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			v := d.Version
			if d.Replace != nil {
				v = d.Replace.Path + "@" + d.Replace.Version
			}
			out[d.Path] = v
		}
	}
	return out
}

func runEnvsubst(c envsubstCase) (result envsubstResult) {
	// Upstream panics on some inputs (a negative substring length): faas-cli would crash there.
	defer func() {
		if p := recover(); p != nil {
			result = envsubstResult{ID: c.ID, Error: fmt.Sprintf("panic: %v", p)}
		}
	}()
	text := c.Input
	if c.InputBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(c.InputBase64)
		if err != nil {
			return envsubstResult{ID: c.ID, Error: "oracle: bad inputBase64: " + err.Error()}
		}
		text = string(b)
	}
	t, err := envsubst.Parse(text)
	if err != nil {
		return envsubstResult{ID: c.ID, Error: err.Error()}
	}
	res, err := t.Execute(func(name string) string {
		if v, ok := c.Env[name]; ok {
			return v
		}
		return ""
	})
	if err != nil {
		return envsubstResult{ID: c.ID, Error: err.Error()}
	}
	r := envsubstResult{ID: c.ID, OK: true}
	if utf8.ValidString(res) {
		r.Output = &res
	} else {
		r.OutputBase64 = base64.StdEncoding.EncodeToString([]byte(res))
	}
	return r
}

func runStack(c stackCase, devNull *os.File) (result stackResult) {
	stdout := os.Stdout
	defer func() {
		if p := recover(); p != nil {
			os.Stdout = stdout
			result = stackResult{ID: c.ID, Error: fmt.Sprintf("panic: %v", p)}
		}
	}()
	os.Clearenv()
	keys := make([]string, 0, len(c.Env))
	for k := range c.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := os.Setenv(k, c.Env[k]); err != nil {
			return stackResult{ID: c.ID, Error: "oracle: setenv: " + err.Error()}
		}
	}
	// ParseYAMLData prints "Error with YAML file" on stdout; keep stdout for the JSON.
	os.Stdout = devNull
	s, err := stack.ParseYAMLData([]byte(c.Text), "", "", true)
	os.Stdout = stdout
	if err != nil {
		return stackResult{ID: c.ID, Error: err.Error()}
	}
	p := &parsedStack{Version: s.Version, Provider: s.Provider.Name, Functions: map[string]function{}}
	for name, f := range s.Functions {
		fn := function{
			Image:                  f.Image,
			FProcess:               f.FProcess,
			Environment:            f.Environment,
			EnvironmentFile:        f.EnvironmentFile,
			Secrets:                f.Secrets,
			Labels:                 f.Labels,
			Annotations:            f.Annotations,
			ReadOnlyRootFilesystem: f.ReadOnlyRootFilesystem,
			Constraints:            f.Constraints,
			Namespace:              f.Namespace,
		}
		if f.Limits != nil {
			fn.Limits = &resources{Memory: f.Limits.Memory, CPU: f.Limits.CPU}
		}
		if f.Requests != nil {
			fn.Requests = &resources{Memory: f.Requests.Memory, CPU: f.Requests.CPU}
		}
		p.Functions[name] = fn
	}
	return stackResult{ID: c.ID, OK: true, Stack: p}
}

func runEnvFile(c envFileCase) envFileResult {
	var f stack.EnvironmentFile
	if err := yaml.Unmarshal([]byte(c.Text), &f); err != nil {
		return envFileResult{ID: c.ID, Error: err.Error()}
	}
	env := f.Environment
	if env == nil {
		env = map[string]string{}
	}
	return envFileResult{ID: c.ID, OK: true, Environment: env}
}

func main() {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "oracle: reading stdin:", err)
		os.Exit(1)
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		fmt.Fprintln(os.Stderr, "oracle: stdin is not the cases JSON:", err)
		os.Exit(1)
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "oracle:", err)
		os.Exit(1)
	}
	out := output{Go: runtime.Version(), Modules: modules(), Envsubst: []envsubstResult{}, Stacks: []stackResult{}, EnvFiles: []envFileResult{}}
	for _, c := range in.Envsubst {
		out.Envsubst = append(out.Envsubst, runEnvsubst(c))
	}
	for _, c := range in.Stacks {
		out.Stacks = append(out.Stacks, runStack(c, devNull))
	}
	for _, c := range in.EnvFiles {
		out.EnvFiles = append(out.EnvFiles, runEnvFile(c))
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "oracle:", err)
		os.Exit(1)
	}
}
