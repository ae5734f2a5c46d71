package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/url"

	_ "github.com/lib/pq"

	"tracetrack/auth"
	"tracetrack/db"
)

// defaultDatabaseURL is the local PostgreSQL used when DATABASE_URL is not set.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/tracetrack?sslmode=disable"

// resolveDatabase returns the database URL to use, creating the default database if needed.
func resolveDatabase(ctx context.Context, cfg config, logger *slog.Logger) (string, error) {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL, nil
	}
	if err := createDatabaseIfMissing(ctx, defaultDatabaseURL); err != nil {
		return "", fmt.Errorf("no DATABASE_URL set and the local PostgreSQL on 127.0.0.1:5432 is not usable (%w); "+
			"start PostgreSQL there or set DATABASE_URL", err)
	}
	return defaultDatabaseURL, nil
}

// createDatabaseIfMissing connects to the server's postgres database and creates the
// database named in target when it does not exist yet.
func createDatabaseIfMissing(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	name := u.Path[1:]
	admin := *u
	admin.Path = "/postgres"
	conn, err := sql.Open("postgres", admin.String())
	if err != nil {
		return err
	}
	defer conn.Close()
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.ExecContext(ctx, `CREATE DATABASE `+quoteIdent(name))
	return err
}

func quoteIdent(name string) string {
	return `"` + name + `"`
}

// ensureAdmin creates the admin user on the first start with an empty database. Its password
// comes from ADMIN_PASSWORD or is generated and printed once.
func ensureAdmin(ctx context.Context, store *db.Store, hasher *auth.Hasher, password string, logger *slog.Logger) error {
	n, err := store.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	generated := password == ""
	if generated {
		raw := make([]byte, 12)
		_, _ = rand.Read(raw)
		password = base64.RawURLEncoding.EncodeToString(raw) + "a1!A"
	} else if err := auth.ValidatePassword(password); err != nil {
		return fmt.Errorf("ADMIN_PASSWORD: %w", err)
	}
	hash, err := hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	if _, err := store.CreateUser(ctx, db.NewUser{Username: "admin", PasswordHash: hash, Role: db.RoleAdmin}); err != nil {
		return err
	}
	if generated {
		fmt.Printf("\n  Created user admin with password: %s\n  (shown once; change it with the changePassword mutation)\n\n", password)
	}
	logger.Info("created the admin user")
	return nil
}
