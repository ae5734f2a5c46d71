// Package web holds the console's built assets (web/dist, built from web/src by Vite and
// committed, so the Go binary embeds them without Node on the build machine).
package web

import "embed"

// Dist is the built console: index.html, graphiql.html and the hashed files under assets/.
//
//go:embed all:dist
var Dist embed.FS
