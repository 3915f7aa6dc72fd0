package k8sfacts_test

import (
	"fmt"
	"testing/fstest"

	"github.com/paved-road/paved/compliance/k8sfacts"
)

// A service's manifests, as //go:embed deploy would give them; Read finds the
// Deployment named after the service and what its probes say.
func ExampleRead() {
	deploy := fstest.MapFS{"deploy/hello/deployment.yaml": {Data: []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: hello
  template:
    metadata:
      labels:
        app.kubernetes.io/name: hello
    spec:
      terminationGracePeriodSeconds: 45
      containers:
        - name: hello
          image: registry.example.com/hello:1.0.0
          ports:
            - name: admin
              containerPort: 9090
          readinessProbe:
            httpGet:
              path: /readyz
              port: admin
`)}}
	k, err := k8sfacts.Read(deploy, "hello")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(k.Source)
	fmt.Println(k.TerminationGracePeriod)
	for _, p := range k.Probes {
		fmt.Println(p.Kind, p.Path, p.Port)
	}
	_, err = k8sfacts.Read(deploy, "orders")
	fmt.Println(err)
	// Output:
	// deployment/hello (deploy/hello/deployment.yaml)
	// 45s
	// readiness /readyz 9090
	// k8sfacts: no Deployment named "orders" or labelled app.kubernetes.io/name=orders among deployment/hello (deploy/hello/deployment.yaml)
}
