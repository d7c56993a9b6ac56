// Package kubeapiserver starts a real etcd and kube-apiserver on loopback
// for tests and applies objects to it with server-side apply, speaking plain
// HTTP to the API: what the server accepts is what a cluster would.
package kubeapiserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Binaries are the server binaries; `make tools` builds them into .tools/bin.
type Binaries struct {
	KubeAPIServer string
	Etcd          string
}

// FindBinaries looks for the binaries under <project>/.tools/bin, or where
// $KUBE_APISERVER and $ETCD point. A missing one is an error that says
// which make target builds it.
func FindBinaries(projectDir string) (Binaries, error) {
	b := Binaries{
		KubeAPIServer: envOr("KUBE_APISERVER", filepath.Join(projectDir, ".tools", "bin", "kube-apiserver")),
		Etcd:          envOr("ETCD", filepath.Join(projectDir, ".tools", "bin", "etcd")),
	}
	for _, path := range []string{b.KubeAPIServer, b.Etcd} {
		if _, err := os.Stat(path); err != nil {
			return b, fmt.Errorf("%s is missing: run `make tools` (it builds kube-apiserver and etcd into .tools/bin): %w", path, err)
		}
	}
	return b, nil
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// Server is a running etcd and kube-apiserver.
type Server struct {
	URL   string
	Token string

	client *http.Client
	procs  []*exec.Cmd
	logs   []*bytes.Buffer
	dir    string

	mu        sync.Mutex
	discovery map[string]resourceInfo // "group/version/Kind" → resource
}

type resourceInfo struct {
	name       string
	namespaced bool
}

// Start starts etcd and kube-apiserver on free loopback ports under dir
// and waits until /readyz answers.
func Start(ctx context.Context, bins Binaries, dir string) (*Server, error) {
	s := &Server{Token: "platform-test-token", dir: dir}
	etcdClient, etcdPeer, apiPort := freePort(), freePort(), freePort()
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	if err := s.start(ctx, bins.Etcd,
		"--name=test", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=test="+peerURL, "--log-level=warn",
	); err != nil {
		return nil, err
	}

	keyFile := filepath.Join(dir, "sa.key")
	tokenFile := filepath.Join(dir, "tokens.csv")
	if err := writeServiceAccountKey(keyFile); err != nil {
		s.Stop()
		return nil, err
	}
	if err := os.WriteFile(tokenFile, []byte(s.Token+`,admin,admin,"system:masters"`+"\n"), 0o600); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.start(ctx, bins.KubeAPIServer,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", apiPort),
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--token-auth-file="+tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+keyFile,
		"--service-account-signing-key-file="+keyFile,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--v=0",
	); err != nil {
		s.Stop()
		return nil, err
	}
	s.URL = fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	// The server's certificate is self-signed for this run; the client
	// talks to nothing but this loopback address.
	s.client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback test server with a throwaway certificate
	}}
	if err := s.waitReady(ctx); err != nil {
		err = fmt.Errorf("%w\n%s", err, s.Logs())
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	s.procs = append(s.procs, cmd)
	s.logs = append(s.logs, &log)
	return nil
}

// Logs returns what the servers printed, for a failure message.
func (s *Server) Logs() string {
	var b strings.Builder
	for i, l := range s.logs {
		out := l.String()
		if len(out) > 4000 {
			out = "…" + out[len(out)-4000:]
		}
		fmt.Fprintf(&b, "--- %s ---\n%s\n", filepath.Base(s.procs[i].Path), out)
	}
	return b.String()
}

// Stop stops the servers, the API server first.
func (s *Server) Stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		if p.Process != nil {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	}
	s.procs = nil
}

func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(90 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		for _, p := range s.procs {
			if p.ProcessState != nil {
				return fmt.Errorf("%s exited", filepath.Base(p.Path))
			}
		}
		status, body, err := s.do(ctx, http.MethodGet, "/readyz", "", nil)
		if err == nil && status == http.StatusOK {
			return nil
		}
		last = fmt.Errorf("readyz: %d %s %v", status, strings.TrimSpace(string(body)), err)
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("kube-apiserver not ready after 90 s: %v", last)
}

func (s *Server) do(ctx context.Context, method, path, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// Apply server-side applies one object and returns the server's refusal,
// if any, as an error with the server's message.
func (s *Server) Apply(ctx context.Context, obj map[string]any) error {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	namespace, _ := meta["namespace"].(string)
	info, err := s.resource(ctx, apiVersion, kind)
	if err != nil {
		return err
	}
	path := "/apis/" + apiVersion
	if !strings.Contains(apiVersion, "/") {
		path = "/api/" + apiVersion
	}
	if info.namespaced {
		if namespace == "" {
			namespace = "default"
		}
		path += "/namespaces/" + url.PathEscape(namespace)
	}
	path += "/" + info.name + "/" + url.PathEscape(name) + "?fieldManager=platform-acceptance&force=true"
	body, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	status, resp, err := s.do(ctx, http.MethodPatch, path, "application/apply-patch+yaml", body)
	if err != nil {
		return err
	}
	if status >= 300 {
		var st struct{ Message string }
		_ = json.Unmarshal(resp, &st)
		if st.Message == "" {
			st.Message = string(resp)
		}
		return fmt.Errorf("%d: %s", status, st.Message)
	}
	return nil
}

// resource finds the REST resource of a kind through discovery, looking
// again when it is not known yet (a CRD just installed).
func (s *Server) resource(ctx context.Context, apiVersion, kind string) (resourceInfo, error) {
	key := apiVersion + "/" + kind
	s.mu.Lock()
	info, ok := s.discovery[key]
	s.mu.Unlock()
	if ok {
		return info, nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := s.discover(ctx, apiVersion); err != nil {
			return info, err
		}
		s.mu.Lock()
		info, ok = s.discovery[key]
		s.mu.Unlock()
		if ok {
			return info, nil
		}
		if time.Now().After(deadline) {
			return info, fmt.Errorf("the server serves no kind %s in %s", kind, apiVersion)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (s *Server) discover(ctx context.Context, apiVersion string) error {
	path := "/apis/" + apiVersion
	if !strings.Contains(apiVersion, "/") {
		path = "/api/" + apiVersion
	}
	status, body, err := s.do(ctx, http.MethodGet, path, "", nil)
	if err != nil {
		return err
	}
	if status == http.StatusNotFound {
		return nil // not served yet
	}
	if status != http.StatusOK {
		return fmt.Errorf("discovery %s: %d %s", path, status, body)
	}
	var list struct {
		Resources []struct {
			Name       string
			Kind       string
			Namespaced bool
		}
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("discovery %s: %w", path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.discovery == nil {
		s.discovery = map[string]resourceInfo{}
	}
	for _, r := range list.Resources {
		if strings.Contains(r.Name, "/") {
			continue // a subresource
		}
		s.discovery[apiVersion+"/"+r.Kind] = resourceInfo{name: r.Name, namespaced: r.Namespaced}
	}
	return nil
}

// WaitEstablished waits for a CustomResourceDefinition to be established.
func (s *Server) WaitEstablished(ctx context.Context, name string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		status, body, err := s.do(ctx, http.MethodGet, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+name, "", nil)
		if err == nil && status == http.StatusOK {
			var crd struct {
				Status struct {
					Conditions []struct{ Type, Status string }
				}
			}
			if json.Unmarshal(body, &crd) == nil {
				for _, c := range crd.Status.Conditions {
					if c.Type == "Established" && c.Status == "True" {
						return nil
					}
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New("CRD " + name + " not established after 60 s")
}

// Get reads an object back, to prove it was stored.
func (s *Server) Get(ctx context.Context, apiVersion, kind, namespace, name string) (map[string]any, error) {
	info, err := s.resource(ctx, apiVersion, kind)
	if err != nil {
		return nil, err
	}
	path := "/apis/" + apiVersion
	if !strings.Contains(apiVersion, "/") {
		path = "/api/" + apiVersion
	}
	if info.namespaced {
		path += "/namespaces/" + namespace
	}
	status, body, err := s.do(ctx, http.MethodGet, path+"/"+info.name+"/"+name, "", nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("get %s %s/%s: %d", kind, namespace, name, status)
	}
	var obj map[string]any
	return obj, json.Unmarshal(body, &obj)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("kubeapiserver: no free loopback port: %v", err))
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeServiceAccountKey(path string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der := x509.MarshalPKCS1PrivateKey(key)
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), 0o600)
}
