package apicheck_test

import (
	"fmt"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server/apicheck"
)

func ExampleCheck() {
	v1 := []byte(`{"openapi":"3.0.3","info":{"title":"inventory","version":"1.0.0"},"paths":{
		"/items/{sku}":{"get":{"summary":"Stock of one SKU","parameters":[{"name":"sku","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"200":{"description":"the stock"}}}},
		"/reservations":{"post":{"summary":"Reserve stock","responses":{"201":{"description":"reserved"}}}}}}`)
	v2 := []byte(`{"openapi":"3.0.3","info":{"title":"inventory","version":"2.0.0"},"paths":{
		"/items/{sku}":{"get":{"summary":"Stock of one SKU","parameters":[{"name":"sku","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"200":{"description":"the stock"}}}}}}`)
	changes, err := apicheck.Check(catalog.APIKindOpenAPI, v1, v2)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range changes {
		fmt.Println(c.Operation, c.ID)
	}
	// Output:
	// POST /reservations api-path-removed-without-deprecation
}

func ExampleDescribe() {
	doc := []byte(`{"openapi":"3.0.3","info":{"title":"inventory","version":"1.0.0"},"paths":{
		"/reservations":{"post":{"summary":"Reserve stock","responses":{"201":{"description":"reserved"}}}}}}`)
	o, err := apicheck.Describe(catalog.APIKindOpenAPI, doc)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, op := range o.Operations {
		fmt.Println(op.Method, op.Path, "-", op.Summary)
	}
	// Output:
	// POST /reservations - Reserve stock
}
