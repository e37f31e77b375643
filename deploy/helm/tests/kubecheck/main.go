// Command kubecheck decodes every object of a multi-document YAML stream (the output of
// `helm template`) strictly with the Go API types the cluster's components use: the
// Kubernetes built-in kinds (client-go's scheme: core, apps, policy, networking, ...),
// the Prometheus Operator's monitoring.coreos.com/v1 kinds and KEDA's keda.sh/v1alpha1
// kinds. Strict means an unknown field, a duplicate field, a value of the wrong type or
// a kind none of those schemes knows is an error, which is what `kubectl apply
// --validate=strict` and the operators' CRD schemas would reject in a cluster.
//
// Usage: kubecheck [FILE]   (standard input without FILE)
//
// Prints one JSON line per object, {"apiVersion", "kind", "name", "error"}, and exits 1
// when any object failed, 2 when the stream could not be read.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// result is one decoded object as printed.
type result struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Error      string `json:"error,omitempty"`
}

// header is what every object is expected to carry, read leniently to name it.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

func newScheme() (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme,
		monitoringv1.AddToScheme,
		kedav1alpha1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	return scheme, nil
}

func check(decoder runtime.Decoder, doc []byte) (result, bool) {
	var head header
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return result{Error: "not a YAML mapping: " + err.Error()}, false
	}
	res := result{APIVersion: head.APIVersion, Kind: head.Kind, Name: head.Metadata.Name}
	if head.Metadata.Name == "" {
		res.Error = "metadata.name is missing"
		return res, false
	}
	if _, _, err := decoder.Decode(doc, nil, nil); err != nil {
		res.Error = err.Error()
		return res, false
	}
	return res, true
}

// documents splits the stream and drops the ones that hold nothing but comments.
func documents(in io.Reader) ([][]byte, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(in))
	var docs [][]byte
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		asJSON, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("a document is not valid YAML: %w", err)
		}
		if trimmed := bytes.TrimSpace(asJSON); len(trimmed) == 0 || string(trimmed) == "null" {
			continue
		}
		docs = append(docs, doc)
	}
}

func main() {
	in := io.Reader(os.Stdin)
	if len(os.Args) > 2 || (len(os.Args) == 2 && os.Args[1] == "-h") {
		fmt.Fprintln(os.Stderr, "usage: kubecheck [FILE]  (reads standard input without FILE)")
		os.Exit(2)
	}
	if len(os.Args) == 2 {
		file, err := os.Open(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "kubecheck:", err)
			os.Exit(2)
		}
		defer file.Close()
		in = file
	}
	scheme, err := newScheme()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubecheck: building the scheme:", err)
		os.Exit(2)
	}
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	docs, err := documents(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubecheck:", err)
		os.Exit(2)
	}
	failed := false
	out := json.NewEncoder(os.Stdout)
	for _, doc := range docs {
		res, ok := check(decoder, doc)
		failed = failed || !ok
		if err := out.Encode(res); err != nil {
			fmt.Fprintln(os.Stderr, "kubecheck:", err)
			os.Exit(2)
		}
	}
	if failed {
		os.Exit(1)
	}
}
