package db

import (
	"database/sql"
	"strings"
	"sync"
	"time"
)

// Role is a user's role. The values are the GraphQL enum values, so gqlgen binds them as is.
type Role string

const (
	RoleAdmin      Role = "ADMIN"
	RoleBiller     Role = "BILLER"
	RoleDispatcher Role = "DISPATCHER"
)

// BagType tells parents from children.
type BagType string

const (
	BagTypeParent BagType = "PARENT"
	BagTypeChild  BagType = "CHILD"
)

// BagStatus is derived by the database from a bag's child count (a generated column).
type BagStatus string

const (
	BagStatusPending    BagStatus = "PENDING"
	BagStatusInProgress BagStatus = "IN_PROGRESS"
	BagStatusCompleted  BagStatus = "COMPLETED"
)

// BillStatus is derived by the database from completed_at and the parent count.
type BillStatus string

const (
	BillStatusOpen       BillStatus = "OPEN"
	BillStatusInProgress BillStatus = "IN_PROGRESS"
	BillStatusCompleted  BillStatus = "COMPLETED"
)

// ScanKind names an entry of the scan log.
type ScanKind string

const (
	ScanParentScanned ScanKind = "PARENT_SCANNED"
	ScanChildLinked   ScanKind = "CHILD_LINKED"
	ScanChildUnlinked ScanKind = "CHILD_UNLINKED"
	ScanBagDeleted    ScanKind = "BAG_DELETED"
	ScanBillLinked    ScanKind = "BILL_LINKED"
	ScanBillUnlinked  ScanKind = "BILL_UNLINKED"
	// ScanReturned: a parent bag came back on a return ticket and left its bill.
	ScanReturned ScanKind = "RETURNED"
)

// Area is a dispatch area.
type Area struct {
	ID   int64  `db:"id"`
	Code string `db:"code"`
	Name string `db:"name"`
}

// areaColumns are the columns Area reads.
const areaColumns = `id, code, name`

// User is an account. PasswordHash never leaves the store's callers in the auth package.
type User struct {
	ID           int64      `db:"id"`
	Username     string     `db:"username"`
	Email        *string    `db:"email"`
	PasswordHash string     `db:"password_hash"`
	Role         Role       `db:"role"`
	AreaID       *int64     `db:"area_id"`
	Active       bool       `db:"active"`
	FailedLogins int        `db:"failed_logins"`
	LockedUntil  *time.Time `db:"locked_until"`
	CreatedAt    time.Time  `db:"created_at"`
	LastLoginAt  *time.Time `db:"last_login_at"`
}

// userColumns are the columns User reads.
const userColumns = `id, username, email, password_hash, role, area_id, active, failed_logins,
	locked_until, created_at, last_login_at`

// Bag is a parent or child bag. ChildCount, Status and Billed are kept by the database.
type Bag struct {
	ID         int64     `db:"id"`
	QR         string    `db:"qr"`
	Type       BagType   `db:"type"`
	Status     BagStatus `db:"status"`
	AreaID     *int64    `db:"area_id"`
	ParentID   *int64    `db:"parent_id"`
	ChildCount int       `db:"child_count"`
	Capacity   int       `db:"capacity"`
	// Billed: a parent on a bill (kept by the bill_bags triggers).
	Billed      bool      `db:"billed"`
	CreatedByID *int64    `db:"created_by"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

// bagColumns are the columns Bag reads.
const bagColumns = `id, qr, type, status, area_id, parent_id, child_count, capacity, billed, created_by,
	created_at, updated_at`

// bagColumnCount is how many bagColumns there are.
const bagColumnCount = 12

// BagColumns is a set of bagColumns, one bit each in their order. A page of bags that a
// query reads only a few fields of reads only their columns (NULL in place of the others):
// the driver decodes every column it reads, and a bill page's 50 parents of 12 columns were
// most of its decoding. The zero value is every column; every set reads the id.
type BagColumns uint16

// The columns of BagColumns.
const (
	BagColumnID BagColumns = 1 << iota
	BagColumnQR
	BagColumnType
	BagColumnStatus
	BagColumnAreaID
	BagColumnParentID
	BagColumnChildCount
	BagColumnCapacity
	BagColumnBilled
	BagColumnCreatedBy
	BagColumnCreatedAt
	BagColumnUpdatedAt
)

// has tells whether the set reads the i-th of bagColumns.
func (c BagColumns) has(i int) bool { return hasColumn(c, i) }

// read is bagColumns of the table alias as the set reads them: the column, or NULL.
func (c BagColumns) read(alias string) string { return readColumns(c, qualified(alias, bagColumns)) }

// columnSet is BagColumns or ScanColumns: a set of a record's columns, one bit each in the
// order of its column list, the zero value every column; every set reads the id (the first).
type columnSet interface{ ~uint16 }

// hasColumn tells whether the set reads the i-th column of its list.
func hasColumn[C columnSet](c C, i int) bool {
	return c == 0 || (c|1)&(1<<i) != 0
}

// readColumns is the column list (names separated by commas) as the set reads it: each
// column, or NULL in its place.
func readColumns[C columnSet](c C, list string) string {
	names := strings.Split(list, ",")
	for i, name := range names {
		names[i] = strings.TrimSpace(name)
		if !hasColumn(c, i) {
			names[i] = "NULL"
		}
	}
	return strings.Join(names, ", ")
}

// byColumns is a statement's text (or part of one) for each set of columns, built on its
// first use: a handful of sets occur (one per selection of a page's fields), each one
// prepared statement.
type byColumns[C columnSet] struct {
	build func(C) string
	mu    sync.RWMutex
	texts map[C]string
}

func (s *byColumns[C]) text(columns C) string {
	s.mu.RLock()
	text, ok := s.texts[columns]
	s.mu.RUnlock()
	if ok {
		return text
	}
	text = s.build(columns)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.texts == nil {
		s.texts = map[C]string{}
	}
	s.texts[columns] = text
	return text
}

// bagRows reads rows that end in bagColumns into one block of bags and one of their ids
// (database/sql would allocate every bag and every non-null id on its own), sized for the
// rows expected; more are still read. Columns are those the rows carry (the others are NULL
// and leave their fields zero).
type bagRows struct {
	bags     []Bag
	ids      []int64
	nullable [3]sql.NullInt64
	skipped  sql.RawBytes
	dest     []any
	columns  BagColumns
}

func newBagRows(expected int, columns BagColumns) *bagRows {
	return &bagRows{bags: make([]Bag, 0, expected), ids: make([]int64, 0, len(bagRows{}.nullable)*expected),
		dest: make([]any, 0, 2+bagColumnCount), columns: columns}
}

// scan reads the current row: its leading columns into lead, the rest into the next bag.
func (r *bagRows) scan(rows *sql.Rows, lead ...any) (*Bag, error) {
	r.bags = append(r.bags, Bag{})
	b := &r.bags[len(r.bags)-1]
	r.nullable = [3]sql.NullInt64{}
	r.dest = append(append(r.dest[:0], lead...), &b.ID, &b.QR, &b.Type, &b.Status, &r.nullable[0], &r.nullable[1],
		&b.ChildCount, &b.Capacity, &b.Billed, &r.nullable[2], &b.CreatedAt, &b.UpdatedAt)
	for i := range bagColumnCount {
		if !r.columns.has(i) {
			r.dest[len(lead)+i] = &r.skipped
		}
	}
	if err := rows.Scan(r.dest...); err != nil {
		return nil, err
	}
	for i, id := range [...]**int64{&b.AreaID, &b.ParentID, &b.CreatedByID} {
		if r.nullable[i].Valid {
			r.ids = append(r.ids, r.nullable[i].Int64)
			*id = &r.ids[len(r.ids)-1]
		}
	}
	return b, nil
}

// Bill is a dispatch bill. The counters are kept by the database in the linking transaction.
type Bill struct {
	ID             int64      `db:"id"`
	BillNumber     string     `db:"bill_number"`
	Description    *string    `db:"description"`
	Destination    *string    `db:"destination"`
	VehicleNumber  *string    `db:"vehicle_number"`
	Capacity       int        `db:"capacity"`
	Status         BillStatus `db:"status"`
	ParentBagCount int        `db:"parent_bag_count"`
	ChildBagCount  int        `db:"child_bag_count"`
	CreatedByID    *int64     `db:"created_by"`
	CreatedAt      time.Time  `db:"created_at"`
	UpdatedAt      time.Time  `db:"updated_at"`
	CompletedAt    *time.Time `db:"completed_at"`
	// CompletedByID is who completed the bill; nil while it is not completed (and for bills
	// completed before this was recorded).
	CompletedByID *int64 `db:"completed_by"`
}

// billColumns are the columns Bill reads.
const billColumns = `id, bill_number, description, destination, vehicle_number, capacity, status,
	parent_bag_count, child_bag_count, created_by, created_at, updated_at, completed_at, completed_by`

// billColumnCount is how many billColumns there are.
const billColumnCount = 14

// fields are the bill's fields in billColumns order, for a statement read without sqlx.
func (b *Bill) fields() []any {
	return []any{&b.ID, &b.BillNumber, &b.Description, &b.Destination, &b.VehicleNumber, &b.Capacity, &b.Status,
		&b.ParentBagCount, &b.ChildBagCount, &b.CreatedByID, &b.CreatedAt, &b.UpdatedAt, &b.CompletedAt, &b.CompletedByID}
}

// Scan is one entry of the append-only scan log. The ids may name rows that are gone.
type Scan struct {
	ID       int64     `db:"id"`
	Kind     ScanKind  `db:"kind"`
	At       time.Time `db:"at"`
	BagQR    string    `db:"bag_qr"`
	BagID    *int64    `db:"bag_id"`
	ParentID *int64    `db:"parent_id"`
	BillID   *int64    `db:"bill_id"`
	UserID   *int64    `db:"user_id"`
	AreaID   *int64    `db:"area_id"`
}

// scanColumns are the columns Scan reads.
const scanColumns = `id, kind, at, bag_qr, bag_id, parent_id, bill_id, user_id, area_id`

// ScanColumns is a set of scanColumns, one bit each in their order, as BagColumns is of
// bagColumns: a page of the scan log that a query reads only a few fields of (a dashboard's
// newest scans: id, kind, at, bagQr) reads only their columns, NULL in place of the others.
// The zero value is every column; every set reads the id.
type ScanColumns uint16

// The columns of ScanColumns.
const (
	ScanColumnID ScanColumns = 1 << iota
	ScanColumnKind
	ScanColumnAt
	ScanColumnBagQR
	ScanColumnBagID
	ScanColumnParentID
	ScanColumnBillID
	ScanColumnUserID
	ScanColumnAreaID
)

// scanSelect is scanColumns as each set of them reads them.
var scanSelect = byColumns[ScanColumns]{build: func(c ScanColumns) string { return readColumns(c, scanColumns) }}

// ReturnTicketStatus is a return ticket's state: OPEN takes bags; COMMITTED and CANCELLED
// are final.
type ReturnTicketStatus string

const (
	ReturnTicketOpen      ReturnTicketStatus = "OPEN"
	ReturnTicketCommitted ReturnTicketStatus = "COMMITTED"
	ReturnTicketCancelled ReturnTicketStatus = "CANCELLED"
)

// ReturnTicket is an IPT return: parent bags that came back from a C&F location. Code is
// made by the database (RTN-000123); BagCount and ChildCount are kept by its triggers.
type ReturnTicket struct {
	ID          int64              `db:"id"`
	Code        string             `db:"code"`
	CFLocation  string             `db:"cf_location"`
	Notes       *string            `db:"notes"`
	Status      ReturnTicketStatus `db:"status"`
	BagCount    int                `db:"bag_count"`
	ChildCount  int                `db:"child_count"`
	CreatedByID *int64             `db:"created_by"`
	CreatedAt   time.Time          `db:"created_at"`
	UpdatedAt   time.Time          `db:"updated_at"`
	ClosedByID  *int64             `db:"closed_by"`
	ClosedAt    *time.Time         `db:"closed_at"`
}

// returnTicketColumns are the columns ReturnTicket reads.
const returnTicketColumns = `id, code, cf_location, notes, status, bag_count, child_count, created_by,
	created_at, updated_at, closed_by, closed_at`

// ReturnedBag is a parent bag on a return ticket: the bill it left and the children it held
// then. The ids may name a bag or bill that is gone; the QR and bill number stay.
type ReturnedBag struct {
	ID           int64     `db:"id"`
	TicketID     int64     `db:"ticket_id"`
	BagID        int64     `db:"bag_id"`
	BagQR        string    `db:"bag_qr"`
	BillID       int64     `db:"bill_id"`
	BillNumber   string    `db:"bill_number"`
	ChildCount   int       `db:"child_count"`
	AreaID       *int64    `db:"area_id"`
	ReturnedByID *int64    `db:"returned_by"`
	ReturnedAt   time.Time `db:"returned_at"`
}

// returnedBagColumns are the columns ReturnedBag reads.
const returnedBagColumns = `id, ticket_id, bag_id, bag_qr, bill_id, bill_number, child_count, area_id,
	returned_by, returned_at`

// qualified is a column list with each column prefixed by a table alias ("b.id, b.qr, ..."),
// for queries that join: the list stays the one beside its struct.
func qualified(alias, columns string) string {
	names := strings.Split(columns, ",")
	for i, name := range names {
		names[i] = alias + "." + strings.TrimSpace(name)
	}
	return strings.Join(names, ", ")
}

// Node is what the GraphQL Node interface binds to: a record that has a global id.
type Node interface{ isNode() }

func (User) isNode()         {}
func (Bag) isNode()          {}
func (Bill) isNode()         {}
func (Scan) isNode()         {}
func (ReturnTicket) isNode() {}
