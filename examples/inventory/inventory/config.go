package inventory

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/paved-road/paved/service"
)

// Config is inventory's configuration: the base settings every Paved service reads,
// plus inventory's own. Load it with service.Load[inventory.Config] (service.Main does).
type Config struct {
	service.Config
	// Seed is the initial stock, "sku=quantity" pairs separated by commas.
	Seed string `env:"INVENTORY_SEED" envDefault:"sku-1=10,sku-2=5,sku-3=0" desc:"Initial stock, loaded at start: comma-separated sku=quantity pairs such as sku-1=10,sku-2=5."`
}

// Validate reports an INVENTORY_SEED that [ParseSeed] refuses, naming the variable.
func (c *Config) Validate() error {
	if _, err := ParseSeed(c.Seed); err != nil {
		return service.NewProblem("INVENTORY_SEED", c.Seed, err.Error())
	}
	return nil
}

// ParseSeed parses "sku-1=10,sku-2=5" into stock by SKU. Spaces around items are
// ignored and an empty string is an empty stock. Each SKU must be valid (see
// [ValidSKU]) and appear once; each quantity must be a whole number from 0 to
// [MaxQuantity].
func ParseSeed(s string) (map[string]int, error) {
	stock := map[string]int{}
	if strings.TrimSpace(s) == "" {
		return stock, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		sku, qty, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("item %q must be sku=quantity, such as sku-1=10", item)
		}
		sku = strings.TrimSpace(sku)
		if msg := checkSKU(sku); msg != "" {
			return nil, fmt.Errorf("item %q: sku %s", item, msg)
		}
		if _, dup := stock[sku]; dup {
			return nil, fmt.Errorf("sku %q appears twice", sku)
		}
		n, err := strconv.Atoi(strings.TrimSpace(qty))
		if err != nil || n < 0 || n > MaxQuantity {
			return nil, fmt.Errorf("item %q: quantity must be a whole number from 0 to %d", item, MaxQuantity)
		}
		stock[sku] = n
	}
	return stock, nil
}

// FormatSeed is the inverse of [ParseSeed], with SKUs sorted.
func FormatSeed(stock map[string]int) string {
	skus := make([]string, 0, len(stock))
	for k := range stock {
		skus = append(skus, k)
	}
	sort.Strings(skus)
	parts := make([]string, len(skus))
	for i, k := range skus {
		parts[i] = k + "=" + strconv.Itoa(stock[k])
	}
	return strings.Join(parts, ",")
}
