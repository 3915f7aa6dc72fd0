// Command baseline is the bare net/http server the startup benchmark compares Paved
// with: it listens on ADMIN_ADDR and answers 200 at once, nothing else.
package main
