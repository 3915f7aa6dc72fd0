package etcd_test

import (
	"errors"

	"github.com/paved-road/paved/discovery"
)

func errorsIsUnknown(err error) bool { return errors.Is(err, discovery.ErrUnknownInstance) }
