package notifier_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/paved-road/paved/examples/notifier/notifier"
)

// Notify sends and records a notification; ListNotifications returns the last ones. The
// consumer's handler calls Notify for every orders.placed message.
func ExampleMakeEndpoints() {
	e := notifier.MakeEndpoints(&notifier.Log{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	n, err := e.Notify(ctx, notifier.OrderPlaced{OrderID: "ord-1", SKU: "sku-1", Quantity: 2})
	fmt.Println(n.(notifier.Notification).Message, err)
	_, err = e.Notify(ctx, notifier.OrderPlaced{OrderID: "ord-2"})
	fmt.Println(err)
	resp, _ := e.ListNotifications(ctx, notifier.ListRequest{})
	fmt.Println(resp.(notifier.ListResponse).Total)
	// Output:
	// Your order ord-1 of 2 × sku-1 is confirmed. <nil>
	// notifier: invalid event: sku is required; quantity must be at least 1, got 0
	// 1
}
