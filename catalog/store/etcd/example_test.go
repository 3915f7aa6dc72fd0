package etcd_test

import (
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/paved-road/paved/catalog/store/etcd"
)

func ExampleNew() {
	// The client dials lazily: New itself needs no server.
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:2379"}, Logger: zap.NewNop()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cli.Close()

	if _, err := etcd.New(cli, etcd.Options{Prefix: "/catalog"}); err != nil {
		fmt.Println(err)
	}
	s, err := etcd.New(cli, etcd.Options{Prefix: "/prod/catalog/"})
	fmt.Println(s != nil, err)
	// Close the store before the client: it writes the heartbeat times it holds.
	_ = s.Close()
	// Output:
	// store/etcd: prefix "/catalog" must end with "/"
	// true <nil>
}
