package db

import "tracetrack/internal/gid"

// The API's ids of the types clients list by the hundred. They are plain methods, not
// resolvers, so gqlgen resolves them inline: a resolver field costs a goroutine per object of
// a list (a page of 50 scans started 50 of them only to encode their ids).

// GlobalID is the bag's id in the API.
func (b *Bag) GlobalID() string { return gid.Encode(gid.Bag, b.ID) }

// GlobalID is the bill's id in the API.
func (b *Bill) GlobalID() string { return gid.Encode(gid.Bill, b.ID) }

// GlobalID is the scan's id in the API.
func (s *Scan) GlobalID() string { return gid.Encode(gid.Scan, s.ID) }

// AppendGlobalID appends the bag's GlobalID to dst.
func (b *Bag) AppendGlobalID(dst []byte) []byte { return gid.AppendEncode(dst, gid.Bag, b.ID) }

// AppendGlobalID appends the bill's GlobalID to dst.
func (b *Bill) AppendGlobalID(dst []byte) []byte { return gid.AppendEncode(dst, gid.Bill, b.ID) }

// AppendGlobalID appends the scan's GlobalID to dst.
func (s *Scan) AppendGlobalID(dst []byte) []byte { return gid.AppendEncode(dst, gid.Scan, s.ID) }
