// A stand-in for the k3s binary in the real-host tests, where K3s itself cannot be downloaded.
// It is not K3s: it answers the few calls the sovereign-faas K3s step makes (k3s --version,
// k3s server as a service, k3s kubectl get node/daemonset) so that the step's own logic runs for
// real on a real host: install, idempotent re-run, upgrade with restart, config change, uninstall.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// version is set at build time: -ldflags "-X main.version=v1.33.5+k3s1".
var version = "v0.0.0+standin"

const (
	configPath     = "/etc/rancher/k3s/config.yaml"
	kubeconfigPath = "/etc/rancher/k3s/k3s.yaml"
	logPath        = "/var/log/k3s-standin.log"
	pidPath        = "/run/k3s-standin.pid"
)

func logLine(format string, args ...any) {
	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

func serverRunning() bool {
	data, err := os.ReadFile(pidPath)
	if err != nil {
		return false
	}
	var pid int
	if _, err := fmt.Sscanf(strings.TrimSpace(string(data)), "%d", &pid); err != nil {
		return false
	}
	return syscall.Kill(pid, 0) == nil
}

// server writes the admin kubeconfig with the mode config.yaml asks for, then runs until stopped.
func server() {
	mode := os.FileMode(0o600)
	if cfg, err := os.ReadFile(configPath); err == nil {
		if m := regexp.MustCompile(`(?m)^write-kubeconfig-mode:\s*"?0?([0-7]{3})"?`).FindSubmatch(cfg); m != nil {
			var v uint32
			fmt.Sscanf(string(m[1]), "%o", &v)
			mode = os.FileMode(v)
		}
	}
	kubeconfig := "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: default\ncontexts:\n- context:\n    cluster: default\n    user: default\n  name: default\ncurrent-context: default\nusers:\n- name: default\n  user:\n    token: k3s-standin\n"
	_ = os.MkdirAll("/etc/rancher/k3s", 0o755)
	_ = os.WriteFile(kubeconfigPath, []byte(kubeconfig), mode)
	_ = os.Chmod(kubeconfigPath, mode)
	_ = os.WriteFile(pidPath, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644)
	logLine("server started %s", version)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	logLine("server stopped %s", version)
	_ = os.Remove(pidPath)
}

func main() {
	args := os.Args[1:]
	switch {
	case len(args) > 0 && (args[0] == "--version" || args[0] == "-v" || args[0] == "version"):
		fmt.Printf("k3s version %s (standin)\ngo version go1.26\n", version)
	case len(args) > 0 && args[0] == "server":
		server()
	case len(args) > 0 && args[0] == "kubectl":
		rest := strings.Join(args[1:], " ")
		switch {
		case strings.Contains(rest, "get node"):
			if serverRunning() {
				fmt.Print("True")
				return
			}
			fmt.Fprintln(os.Stderr, "the server is not running")
			os.Exit(1)
		case strings.Contains(rest, "get daemonset"):
			// No ServiceLB DaemonSets: nothing to print.
		default:
			fmt.Fprintf(os.Stderr, "k3s stand-in: kubectl %s is not supported\n", rest)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "k3s stand-in %s: %q is not supported\n", version, strings.Join(args, " "))
		os.Exit(1)
	}
}
