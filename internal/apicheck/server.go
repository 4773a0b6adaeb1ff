// Package apicheck runs Kubernetes objects through a real kube-apiserver:
// server-side apply with dryRun=All and strict field validation, with the
// CRDs of the pinned releases installed first. The mock engine accepts any
// object; this is where an unknown field, a wrong type or an invalid value
// is refused, as a real cluster would refuse it.
//
// kube-apiserver and etcd are built from the Go module proxy by the wrapper
// module in tools/kube and cached; they listen on 127.0.0.1 only, keep their
// data in a throwaway directory and are stopped by PID when the check ends,
// also when it fails. No controller or webhook runs: the check proves that
// objects are valid for the API and the CRDs' schemas, not what a controller
// will do with them.
package apicheck

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/scrolluniversity/platform/internal/toolcache"
)

// Versions of the servers, pinned by tools/kube/go.mod.
const (
	KubernetesVersion = "v1.36.3"
	EtcdVersion       = "v3.6.8"
)

const (
	// startTimeout bounds how long etcd and the API server may take to
	// become ready; a cold start on a small machine takes about 10 s.
	startTimeout = 90 * time.Second
	// stopGrace is how long a server gets after SIGTERM before SIGKILL.
	stopGrace = 5 * time.Second
	// serviceRange is the Service IP range the API server allocates from;
	// nothing routes to it, but the flag is required.
	serviceRange = "10.96.0.0/24"
	adminUser    = "apicheck"
)

// Binaries are the built kube-apiserver and etcd, and the scheduler and
// controller manager the placement check (internal/simcluster) runs.
type Binaries struct {
	APIServer, Etcd, Scheduler, ControllerManager string
}

// versionLDFlags stamp KubernetesVersion into component-base's version
// variables, as hack/lib/version.sh does for a release.
var versionLDFlags = func() string {
	v := strings.TrimPrefix(KubernetesVersion, "v")
	parts := strings.SplitN(v, ".", 3)
	const pkg = "k8s.io/component-base/version"
	return fmt.Sprintf("-X %s.gitVersion=v%s -X %s.gitMajor=%s -X %s.gitMinor=%s -X %s.gitTreeState=clean", pkg, v, pkg, parts[0], pkg, parts[1], pkg)
}()

// Servers is the wrapper module tools/kube and what it builds.
func Servers(toolsDir string) toolcache.Set {
	return toolcache.Set{
		Name:   "kube-" + KubernetesVersion + "-etcd-" + EtcdVersion,
		Dir:    toolsDir,
		Inputs: []string{filepath.Join("etcd", "main.go")},
		Targets: []toolcache.Target{
			// Stamped with its version as Kubernetes' release build does:
			// unstamped it reports v0.0.0-master, which Helm's
			// .Capabilities.KubeVersion (the end-to-end run's releases)
			// cannot compare.
			{Binary: "kube-apiserver", Package: "k8s.io/kubernetes/cmd/kube-apiserver", LDFlags: versionLDFlags},
			{Binary: "etcd", Package: "./etcd"},
			{Binary: "kube-scheduler", Package: "k8s.io/kubernetes/cmd/kube-scheduler"},
			{Binary: "kube-controller-manager", Package: "k8s.io/kubernetes/cmd/kube-controller-manager"},
		},
	}
}

// CacheDir is where built binaries are kept between runs (toolcache).
func CacheDir(toolsDir string) (string, error) { return Servers(toolsDir).CacheDir() }

// EnsureBinaries returns the cached binaries, building them first from
// toolsDir (tools/kube) if they are missing. A cold build takes about 8
// minutes and 2 GB; log receives the build's progress.
func EnsureBinaries(toolsDir string, log io.Writer) (Binaries, error) {
	paths, err := Servers(toolsDir).Ensure(log)
	if err != nil {
		return Binaries{}, err
	}
	return BinariesOf(paths), nil
}

// BinariesOf are the binaries among the paths Servers' set gives, by name.
func BinariesOf(paths map[string]string) Binaries {
	return Binaries{APIServer: paths["kube-apiserver"], Etcd: paths["etcd"], Scheduler: paths["kube-scheduler"], ControllerManager: paths["kube-controller-manager"]}
}

// Server is a running etcd and kube-apiserver on loopback.
type Server struct {
	// URL is the API server's https URL.
	URL    string
	token  string
	client *http.Client
	dir    string
	procs  []*proc
	logs   []string
}

// proc is a started server; done closes once it has exited and been reaped.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Start starts etcd and the API server with a throwaway data directory and
// waits until the API server is ready; extra are more API server flags
// (the end-to-end run's). Call Stop when done, also on error paths; Start
// stops what it started when it fails.
func Start(ctx context.Context, bins Binaries, extra ...string) (s *Server, err error) {
	dir, err := os.MkdirTemp("", "apicheck-")
	if err != nil {
		return nil, err
	}
	s = &Server{dir: dir}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w%s", err, s.LogTail())
			s.Stop()
			s = nil
		}
	}()
	ports, err := freePorts(3)
	if err != nil {
		return s, err
	}
	etcdClient := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	etcdPeer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	if err := s.Spawn(bins.Etcd, "etcd",
		"--name=apicheck",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdClient,
		"--advertise-client-urls="+etcdClient,
		"--listen-peer-urls="+etcdPeer,
		"--initial-advertise-peer-urls="+etcdPeer,
		"--initial-cluster=apicheck="+etcdPeer,
		// Throwaway data: durability buys nothing and costs seconds.
		"--unsafe-no-fsync",
		"--log-level=warn",
	); err != nil {
		return s, err
	}
	if err := waitFor(ctx, http.DefaultClient, etcdClient+"/health", ""); err != nil {
		return s, fmt.Errorf("etcd did not become healthy: %w", err)
	}

	s.token, err = randomToken()
	if err != nil {
		return s, err
	}
	tokens := filepath.Join(dir, "tokens.csv")
	// system:masters: the check needs every verb on every kind.
	if err := os.WriteFile(tokens, []byte(fmt.Sprintf("%s,%s,%s,\"system:masters\"\n", s.token, adminUser, adminUser)), 0o600); err != nil {
		return s, err
	}
	saKey := filepath.Join(dir, "sa.key")
	if err := writeRSAKey(saKey); err != nil {
		return s, err
	}
	certDir := filepath.Join(dir, "certs")
	s.URL = fmt.Sprintf("https://127.0.0.1:%d", ports[2])
	if err := s.Spawn(bins.APIServer, "kube-apiserver", append([]string{
		"--etcd-servers=" + etcdClient,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", ports[2]),
		"--cert-dir=" + certDir,
		"--token-auth-file=" + tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + saKey,
		"--service-account-signing-key-file=" + saKey,
		"--service-cluster-ip-range=" + serviceRange,
		// The admission plugins every EKS platform version enables: the
		// server's defaults and these two (EKS user guide, "View Amazon
		// EKS platform versions for each Kubernetes version").
		"--enable-admission-plugins=NodeRestriction,ExtendedResourceToleration",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	}, extra...)...); err != nil {
		return s, err
	}
	// The server writes its self-signed serving certificate on start; trust
	// exactly that certificate.
	pool := x509.NewCertPool()
	deadline := time.Now().Add(startTimeout)
	for {
		if b, err := os.ReadFile(filepath.Join(certDir, "apiserver.crt")); err == nil && pool.AppendCertsFromPEM(b) {
			break
		}
		if time.Now().After(deadline) {
			return s, errors.New("kube-apiserver wrote no serving certificate")
		}
		if err := s.Alive(); err != nil {
			return s, err
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.client = &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}},
	}
	if err := waitFor(ctx, s.client, s.URL+"/readyz", s.token); err != nil {
		return s, fmt.Errorf("kube-apiserver did not become ready: %w", err)
	}
	return s, nil
}

// Spawn starts one server in its own process group, its output to a log
// file in the data directory; Stop stops it. Pdeathsig ends it if this
// process dies without running Stop. Start spawns etcd and the API
// server; the placement check spawns the scheduler, the controller
// manager and KWOK beside them.
func (s *Server) Spawn(bin, name string, args ...string) error {
	logPath := filepath.Join(s.dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting %s: %w", name, err)
	}
	logFile.Close()
	p := &proc{cmd: cmd, done: make(chan struct{})}
	// Reaped here; others learn of the exit through done only.
	go func() { p.err = cmd.Wait(); close(p.done) }()
	s.procs = append(s.procs, p)
	s.logs = append(s.logs, logPath)
	return nil
}

// Kubeconfig writes a kubeconfig for the server's admin token, trusting
// its serving certificate, and returns its path.
func (s *Server) Kubeconfig() (string, error) {
	path := filepath.Join(s.dir, "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: apicheck
  cluster:
    server: %s
    certificate-authority: %s
    tls-server-name: 127.0.0.1
users:
- name: %s
  user:
    token: %s
contexts:
- name: apicheck
  context: {cluster: apicheck, user: %s}
current-context: apicheck
`, s.URL, s.CertFile(), adminUser, s.token, adminUser)
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

// Token is the API server's admin token (system:masters).
func (s *Server) Token() string { return s.token }

// CertFile is the API server's self-signed serving certificate.
func (s *Server) CertFile() string { return filepath.Join(s.dir, "certs", "apiserver.crt") }

// ServiceAccountKey is the key the server signs and verifies service
// account tokens with.
func (s *Server) ServiceAccountKey() string { return filepath.Join(s.dir, "sa.key") }

// Alive reports a server or spawned program that has already died.
func (s *Server) Alive() error {
	for _, p := range s.procs {
		if p.exited() {
			return fmt.Errorf("%s exited: %v", filepath.Base(p.cmd.Path), p.err)
		}
	}
	return nil
}

// Stop stops the servers by PID (their process groups: SIGTERM, then
// SIGKILL after a grace period) and removes the data directory.
func (s *Server) Stop() {
	if s == nil {
		return
	}
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	s.procs = nil
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// LogTail is the end of each server's log, for a failure's report.
func (s *Server) LogTail() string {
	var b strings.Builder
	for _, path := range s.logs {
		data, err := os.ReadFile(path)
		if err != nil || len(data) == 0 {
			continue
		}
		if len(data) > 3000 {
			data = data[len(data)-3000:]
		}
		fmt.Fprintf(&b, "\n--- end of %s ---\n%s", filepath.Base(path), data)
	}
	return b.String()
}

func waitFor(ctx context.Context, client *http.Client, url, token string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("%s: %s %s", url, resp.Status, strings.TrimSpace(string(body)))
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// writeRSAKey writes the key that signs and verifies service account tokens.
func writeRSAKey(path string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600)
}
