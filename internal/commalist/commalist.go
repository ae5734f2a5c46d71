// Package commalist reads the comma-separated settings of the server and the tools.
package commalist

import "strings"

// Split splits s at commas, trimming each part and dropping blank ones.
func Split(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
