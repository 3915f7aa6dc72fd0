package integration_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/paved-road/paved/health/checks"
)

// TestSQLCheckWithRealDriver: checks.SQL on a real database/sql driver (pure-Go SQLite)
// passes on an open database, fails once it is closed, and fails on a file that cannot
// be opened.
func TestSQLCheckWithRealDriver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	check, err := checks.SQL(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := check(ctx); err != nil {
		t.Errorf("open database: got %v, want nil", err)
	}
	db.Close()
	if err := check(ctx); err == nil || !strings.Contains(err.Error(), "sql: database is closed") {
		t.Errorf("closed database: got %v, want sql: database is closed", err)
	}

	bad, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "missing", "x.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	check, _ = checks.SQL(bad)
	if err := check(ctx); err == nil {
		t.Errorf("unopenable database: got nil, want an error")
	}
}
