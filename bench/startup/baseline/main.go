package main

import (
	"net/http"
	"os"
)

func main() {
	_ = http.ListenAndServe(os.Getenv("ADMIN_ADDR"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
}
