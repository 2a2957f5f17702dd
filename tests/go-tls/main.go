// Command go-tls drives HashiCorp's Go client, github.com/hashicorp/consul/api (the
// version tests/go-consul-api/run.sh tests), against a Proconsul agent that serves its
// API over HTTPS only and requires client certificates (verify_incoming). It is built
// and run by tests/tests/https_clients.rs.
//
//	go-tls -name N -addr 127.0.0.1:8501 -ca ca.pem [-cert c.pem -key c-key.pem]
//	go-tls -name N -env     (api.DefaultConfig(): CONSUL_HTTP_ADDR=https://..., CONSUL_CACERT,
//	                         CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY)
//
// It puts and reads back a KV entry, registers a service with a TTL check on the agent,
// passes the check, reads the service from the catalog and from health (passing only),
// deregisters it and reads the catalog again. Each step that succeeds prints "ok: STEP";
// the HTTP protocol the client negotiated is printed as "protocol: HTTP/x".
//
// Exit status: 0 when every answer is as expected; 1 when an answer is wrong; 2 when a
// request fails (a refused TLS handshake, for one: the error is printed on stderr as
// "request failed: STEP: ERROR"); 3 on bad usage.
//
// After a failed request it also prints "tls probe: RESULT": what a plain TLS connection
// with the TLS configuration the client built (api.SetupTLSConfig) meets when it sends a
// request and reads the answer. The client's own error does not always name the TLS
// alert: when the agent refuses the handshake, Go's HTTP/2 transport sometimes sees the
// connection closed before it has put the first request on it, and then returns
// "http2: client conn could not be established" without the cause.
package main

import (
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
)

// protocols records the protocol of every answer the client received.
type protocols struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (p *protocols) RoundTrip(request *http.Request) (*http.Response, error) {
	response, err := p.next.RoundTrip(request)
	if err == nil {
		p.mu.Lock()
		if !slices.Contains(p.seen, response.Proto) {
			p.seen = append(p.seen, response.Proto)
		}
		p.mu.Unlock()
	}
	return response, err
}

func main() {
	name := flag.String("name", "", "a name for this run's key and service (required)")
	addr := flag.String("addr", "", "the agent's HTTPS address, host:port")
	ca := flag.String("ca", "", "the CA file (TLSConfig.CAFile)")
	cert := flag.String("cert", "", "the client certificate (TLSConfig.CertFile)")
	key := flag.String("key", "", "the client key (TLSConfig.KeyFile)")
	env := flag.Bool("env", false, "configure the client from the environment only (api.DefaultConfig)")
	flag.Parse()
	if *name == "" || (*env == (*addr != "")) {
		fmt.Fprintln(os.Stderr, "usage: go-tls -name N (-addr HOST:PORT -ca FILE [-cert FILE -key FILE] | -env)")
		os.Exit(3)
	}

	var config *api.Config
	if *env {
		config = api.DefaultConfig()
	} else {
		config = &api.Config{
			Address: *addr,
			Scheme:  "https",
			TLSConfig: api.TLSConfig{
				CAFile:   *ca,
				CertFile: *cert,
				KeyFile:  *key,
			},
		}
	}
	client, err := api.NewClient(config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot make the client: %v\n", err)
		os.Exit(2)
	}
	// From here on a failed request is followed by the TLS probe.
	probeConfig = config
	// NewClient filled config.HttpClient, which the client shares: record protocols.
	recorder := &protocols{next: config.HttpClient.Transport}
	config.HttpClient.Transport = recorder
	if config.Scheme != "https" {
		wrong("scheme", "the client's scheme is %q, not https", config.Scheme)
	}

	leader, err := client.Status().Leader()
	if err != nil {
		failed("status leader", err)
	}
	if leader == "" {
		wrong("status leader", "no leader")
	}
	ok("status leader")

	kv := client.KV()
	entry := &api.KVPair{Key: "https-clients/" + *name, Value: []byte("value of " + *name), Flags: 42}
	if _, err := kv.Put(entry, nil); err != nil {
		failed("kv put", err)
	}
	got, _, err := kv.Get(entry.Key, nil)
	if err != nil {
		failed("kv get", err)
	}
	if got == nil || !bytes.Equal(got.Value, entry.Value) || got.Flags != entry.Flags {
		wrong("kv get", "read back %+v, wrote %+v", got, entry)
	}
	ok("kv put/get")

	service := "web-" + *name
	registration := &api.AgentServiceRegistration{
		ID:   service + "-1",
		Name: service,
		Port: 8080,
		Tags: []string{"tls", *name},
		Meta: map[string]string{"client": "go"},
		Check: &api.AgentServiceCheck{
			CheckID: service + "-ttl",
			TTL:     "10m",
		},
	}
	agent := client.Agent()
	if err := agent.ServiceRegister(registration); err != nil {
		failed("agent service register", err)
	}
	if err := agent.UpdateTTL(service+"-ttl", "alive", api.HealthPassing); err != nil {
		failed("agent check update", err)
	}
	ok("agent service register")

	instances, _, err := client.Catalog().Service(service, "", nil)
	if err != nil {
		failed("catalog service", err)
	}
	if len(instances) != 1 {
		wrong("catalog service", "%d instances of %s, expected 1", len(instances), service)
	}
	instance := instances[0]
	if instance.ServiceID != registration.ID || instance.ServiceName != service ||
		instance.ServicePort != 8080 || !slices.Equal(instance.ServiceTags, registration.Tags) ||
		instance.ServiceMeta["client"] != "go" {
		wrong("catalog service", "unexpected instance %+v", instance)
	}
	ok("catalog service")

	entries, _, err := client.Health().Service(service, "", true, nil)
	if err != nil {
		failed("health service", err)
	}
	if len(entries) != 1 {
		wrong("health service", "%d passing instances of %s, expected 1", len(entries), service)
	}
	if entries[0].Service.ID != registration.ID || entries[0].Checks.AggregatedStatus() != api.HealthPassing {
		wrong("health service", "unexpected entry: service %+v, checks %+v", entries[0].Service, entries[0].Checks)
	}
	found := false
	for _, check := range entries[0].Checks {
		if check.CheckID == service+"-ttl" && check.Status == api.HealthPassing && check.Output == "alive" {
			found = true
		}
	}
	if !found {
		wrong("health service", "the TTL check is not there, passing with its output: %+v", entries[0].Checks)
	}
	ok("health service")

	if err := agent.ServiceDeregister(registration.ID); err != nil {
		failed("agent service deregister", err)
	}
	instances, _, err = client.Catalog().Service(service, "", nil)
	if err != nil {
		failed("catalog service after deregister", err)
	}
	if len(instances) != 0 {
		wrong("catalog service after deregister", "still %d instances", len(instances))
	}
	ok("agent service deregister")

	recorder.mu.Lock()
	for _, proto := range recorder.seen {
		fmt.Printf("protocol: %s\n", proto)
	}
	recorder.mu.Unlock()
}

func ok(step string) {
	fmt.Printf("ok: %s\n", step)
}

func wrong(step, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "wrong answer: %s: %s\n", step, fmt.Sprintf(format, args...))
	os.Exit(1)
}

// probeConfig is the client's configuration once NewClient has completed it.
var probeConfig *api.Config

func failed(step string, err error) {
	fmt.Fprintf(os.Stderr, "request failed: %s: %v\n", step, err)
	if probeConfig != nil {
		fmt.Fprintf(os.Stderr, "tls probe: %s\n", probe(probeConfig))
	}
	os.Exit(2)
}

// probe connects with the TLS configuration the client uses, sends a request and reads
// the answer; it returns the error met, or what the agent answered.
func probe(config *api.Config) string {
	tlsConfig, err := api.SetupTLSConfig(&config.TLSConfig)
	if err != nil {
		return fmt.Sprintf("cannot build the TLS configuration: %v", err)
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(dialer, "tcp", config.Address, tlsConfig)
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err.Error()
	}
	request := "GET /v1/status/leader HTTP/1.1\r\nHost: " + config.Address + "\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, request); err != nil {
		return err.Error()
	}
	answer, err := io.ReadAll(conn)
	if err != nil {
		return err.Error()
	}
	first, _, _ := bytes.Cut(answer, []byte("\r\n"))
	return fmt.Sprintf("served: %q", first)
}
