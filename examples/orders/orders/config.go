package orders

import (
	"errors"
	"reflect"
	"regexp"
	"strings"

	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/service"
)

// Config is orders' configuration: the base settings every Paved service reads, the
// optional NATS connection its events go through (NATS_*), and the resilience policy
// of its calls to inventory, read from INVENTORY_* variables
// (INVENTORY_TIMEOUT, INVENTORY_ATTEMPT_TIMEOUT, INVENTORY_BREAKER_OPEN_TIMEOUT,
// INVENTORY_RETRY_MAX_ATTEMPTS...). Every zero field takes resilience's documented
// default: a breaker, three attempts under a retry budget, 10s overall and 3s per
// attempt.
type Config struct {
	service.Config
	// Inventory is the resilience policy of the calls to inventory.
	Inventory resilience.PolicyConfig `envPrefix:"INVENTORY_"`
	// Events is the connection to NATS (NATS_URL, NATS_PUBLISH_*...): set, orders
	// publishes orders.placed for every order; unset, nothing.
	Events EventsConfig
}

// inventoryPrefix is the envPrefix of Config.Inventory.
const inventoryPrefix = "INVENTORY_"

// Validate reports an invalid INVENTORY_* policy, one problem per field, each naming
// its variable (INVENTORY_RETRY_MULTIPLIER for RetryConfig.Multiplier).
func (c *Config) Validate() error {
	err := c.Inventory.Validate()
	if err == nil {
		return nil
	}
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	var errs []error
	for _, e := range list {
		if e != nil {
			errs = append(errs, service.NewProblem(policyVariable(e.Error()), "", e.Error()))
		}
	}
	return errors.Join(errs...)
}

// fieldRef finds "RetryConfig.Multiplier" in resilience's validation messages.
var fieldRef = regexp.MustCompile(`\b([A-Z][A-Za-z]*Config)\.([A-Z][A-Za-z]*)\b`)

// policyVariable names the INVENTORY_ variable of the field msg is about, from the env
// tags of resilience.PolicyConfig, or INVENTORY_* when it cannot tell.
func policyVariable(msg string) string {
	m := fieldRef.FindStringSubmatch(msg)
	if m == nil {
		return inventoryPrefix + "*"
	}
	pt := reflect.TypeFor[resilience.PolicyConfig]()
	if m[1] == pt.Name() {
		if f, ok := pt.FieldByName(m[2]); ok {
			return inventoryPrefix + envName(f)
		}
	}
	for i := range pt.NumField() {
		part := pt.Field(i)
		if part.Type.Name() != m[1] {
			continue
		}
		if f, ok := part.Type.FieldByName(m[2]); ok {
			return inventoryPrefix + part.Tag.Get("envPrefix") + envName(f)
		}
	}
	return inventoryPrefix + "*"
}

func envName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
	return name
}
