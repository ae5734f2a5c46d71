package db

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tracetrack/apperr"
)

// ImportFormat is the kind of file an import reads (the old system's formats).
type ImportFormat string

const (
	ImportChildParentWorkbook ImportFormat = "CHILD_PARENT_WORKBOOK"
	ImportParentBillWorkbook  ImportFormat = "PARENT_BILL_WORKBOOK"
	ImportBagsCSV             ImportFormat = "BAGS_CSV"
	ImportBillsCSV            ImportFormat = "BILLS_CSV"
)

// ImportStatus is where an import job is.
type ImportStatus string

const (
	ImportRunning ImportStatus = "RUNNING"
	ImportDone    ImportStatus = "DONE"
	ImportFailed  ImportStatus = "FAILED"
)

// ImportRowKind is what one row of an imported file asks for.
type ImportRowKind string

const (
	// ImportParent: the parent bag Parent exists (created if missing), on bill Bill if given.
	ImportParent ImportRowKind = "PARENT"
	// ImportChild: the child bag Child is in the parent Parent (created if missing).
	ImportChild ImportRowKind = "CHILD"
	// ImportBill: the bill Bill exists, with Description and Capacity.
	ImportBill ImportRowKind = "BILL"
)

// ImportRow is one row of an imported file as its reader understood it. Codes are
// normalised (qr.Normalize, NormalizeBillNumber). A row the reader already refused (a QR of
// no format, a bad number, a child no parent row closed) carries the reason in Refusal and is
// only reported.
type ImportRow struct {
	SheetNo     int
	Sheet       string
	RowNo       int64
	Input       string
	Kind        ImportRowKind
	Parent      string
	Child       string
	Bill        string
	Description string
	Capacity    int
	Refusal     string
}

// ImportJob is one import: a file, its progress and what it did.
type ImportJob struct {
	ID                int64        `db:"id"`
	FileName          string       `db:"file_name"`
	FileSHA256        []byte       `db:"file_sha256"`
	FileBytes         int64        `db:"file_bytes"`
	Format            ImportFormat `db:"format"`
	AreaID            *int64       `db:"area_id"`
	Status            ImportStatus `db:"status"`
	PreviousJobID     *int64       `db:"previous_job_id"`
	RowsTotalEstimate *int64       `db:"rows_total_estimate"`
	RowsRead          int64        `db:"rows_read"`
	RowsRefused       int64        `db:"rows_refused"`
	RowsAlreadyThere  int64        `db:"rows_already_there"`
	ParentsCreated    int64        `db:"parents_created"`
	ChildrenCreated   int64        `db:"children_created"`
	BillLinksCreated  int64        `db:"bill_links_created"`
	BillsCreated      int64        `db:"bills_created"`
	Error             *string      `db:"error"`
	CreatedByID       *int64       `db:"created_by"`
	StartedAt         time.Time    `db:"started_at"`
	UpdatedAt         time.Time    `db:"updated_at"`
	FinishedAt        *time.Time   `db:"finished_at"`
}

const importJobColumns = `id, file_name, file_sha256, file_bytes, format, area_id, status, previous_job_id,
	rows_total_estimate, rows_read, rows_refused, rows_already_there, parents_created, children_created,
	bill_links_created, bills_created, error, created_by, started_at, updated_at, finished_at`

// Changed reports whether the job created anything.
func (j *ImportJob) Changed() bool {
	return j.ParentsCreated+j.ChildrenCreated+j.BillLinksCreated+j.BillsCreated > 0
}

// AlreadyImported reports a finished job that changed nothing although it read rows, because
// every row it did not refuse was there already (the same file imported again, say).
func (j *ImportJob) AlreadyImported() bool {
	return j.Status == ImportDone && !j.Changed() && j.RowsAlreadyThere > 0
}

// LinksCreated are the children put in parents and the parents put on bills.
func (j *ImportJob) LinksCreated() int64 { return j.ChildrenCreated + j.BillLinksCreated }

// BagsCreated are the parents and children created.
func (j *ImportJob) BagsCreated() int64 { return j.ParentsCreated + j.ChildrenCreated }

// Elapsed is how long the job has run (until now while it runs).
func (j *ImportJob) Elapsed(now time.Time) time.Duration {
	end := now
	if j.FinishedAt != nil {
		end = *j.FinishedAt
	}
	return max(0, end.Sub(j.StartedAt))
}

// RowsPerSecond is the job's pace: rows read over the time it has run (0 before a second's
// worth of time is known).
func (j *ImportJob) RowsPerSecond(now time.Time) float64 {
	elapsed := j.Elapsed(now).Seconds()
	if elapsed <= 0 {
		return 0
	}
	return float64(j.RowsRead) / elapsed
}

// Remaining estimates the time left of a running job at its pace so far; nil when the job
// has finished, has no estimate of its rows or no pace yet.
func (j *ImportJob) Remaining(now time.Time) *time.Duration {
	rate := j.RowsPerSecond(now)
	if j.Status != ImportRunning || j.RowsTotalEstimate == nil || rate == 0 {
		return nil
	}
	left := time.Duration(float64(max(0, *j.RowsTotalEstimate-j.RowsRead)) / rate * float64(time.Second))
	return &left
}

// NewImportJob describes the file of a job about to start.
type NewImportJob struct {
	FileName  string
	SHA256    []byte
	Bytes     int64
	Format    ImportFormat
	AreaID    *int64
	RowsTotal *int64
}

// ImportSettings are the rules an import applies that come from configuration.
type ImportSettings struct {
	// ChildrenPerParent is the capacity of the parents an import creates.
	ChildrenPerParent int
}

// maxImportFileName bounds the file name a job keeps.
const maxImportFileName = 255

// MayImport refuses anyone but an admin (and the server): FORBIDDEN, or UNAUTHENTICATED
// for nobody. Uploads are refused by it before their body is read.
func MayImport(a Actor) error {
	switch {
	case a.Role == RoleAdmin:
		return nil
	case a.Role == "":
		return apperr.SignInFirst()
	}
	return apperr.New(apperr.Forbidden, "only admins import files and read their reports")
}

// StartImportJob records a running job for the file. Only admins (and the server) import.
// The job names the earlier job that imported the same file, if any.
func (s *Store) StartImportJob(ctx context.Context, a Actor, nj NewImportJob) (*ImportJob, error) {
	if err := MayImport(a); err != nil {
		return nil, err
	}
	name := []rune(strings.TrimSpace(nj.FileName))
	if len(name) == 0 {
		name = []rune("upload")
	}
	if len(name) > maxImportFileName {
		name = name[len(name)-maxImportFileName:]
	}
	job := &ImportJob{}
	err := s.db.GetContext(ctx, job, `
		INSERT INTO import_jobs (file_name, file_sha256, file_bytes, format, area_id, rows_total_estimate, created_by,
		                         previous_job_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7,
		        (SELECT min(id) FROM import_jobs WHERE file_sha256 = $2 AND status = 'DONE'))
		RETURNING `+importJobColumns,
		string(name), nj.SHA256, nj.Bytes, nj.Format, nj.AreaID, nj.RowsTotal, a.UserID)
	return job, wrap(err, "start import job")
}

// ImportJob returns the job with the id (NOT_FOUND when there is none).
func (s *Store) ImportJob(ctx context.Context, id int64) (*ImportJob, error) {
	job := &ImportJob{}
	err := s.db.GetContext(ctx, job, `SELECT `+importJobColumns+` FROM import_jobs WHERE id = $1`, id)
	if err != nil {
		return nil, wrap(notFoundIfNoRows(err, "there is no import job with that id"), "read import job")
	}
	return job, nil
}

// ImportJobs returns a page of the jobs, newest first.
func (s *Store) ImportJobs(ctx context.Context, page Page) ([]*ImportJob, bool, error) {
	var jobs []*ImportJob
	err := s.db.SelectContext(ctx, &jobs, `
		SELECT `+importJobColumns+`
		FROM import_jobs
		WHERE $1::bigint = 0 OR id < $1
		ORDER BY id DESC
		LIMIT $2`, page.AfterID, page.Limit+1)
	if err != nil {
		return nil, false, wrap(err, "list import jobs")
	}
	jobs, more := trim(jobs, page)
	return jobs, more, nil
}

// FinishImportJob marks the job DONE, or FAILED with failure as its error, and writes its
// IMPORTED audit entry in the same transaction. A finished job never changes again (the
// import_jobs_frozen trigger).
func (s *Store) FinishImportJob(ctx context.Context, a Actor, jobID int64, failure error) (*ImportJob, error) {
	status, reason := ImportDone, (*string)(nil)
	if failure != nil {
		status = ImportFailed
		message := failure.Error() // the file's trouble (a broken zip, an unreadable CSV), said as it is
		var pqErr *pq.Error
		if public, ok := apperr.As(failure); ok {
			message = public.Message
		} else if errors.As(failure, &pqErr) || apperr.DatabaseUnavailable(failure) {
			// no SQL or internal detail leaves the server: the log line of the failure has it
			message = "the database failed while importing; the chunks of rows imported before are kept: import the same file again to complete it"
		}
		reason = &message
	}
	job := &ImportJob{}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, job, `
			UPDATE import_jobs SET status = $2, error = $3, finished_at = now(), updated_at = now()
			WHERE id = $1
			RETURNING `+importJobColumns, jobID, status, reason)
		if err != nil {
			return wrap(notFoundIfNoRows(err, "there is no import job with that id"), "finish import job")
		}
		return audit(ctx, tx, auditEntry{Actor: a, Action: AuditImported, TargetType: AuditTargetImportJob,
			TargetID: &job.ID, After: auditOfImport(job)})
	})
	if err != nil {
		return nil, err
	}
	return job, nil
}

// importAudit is what the audit log keeps of a finished import.
type importAudit struct {
	FileName         string       `json:"fileName"`
	Format           ImportFormat `json:"format"`
	Status           ImportStatus `json:"status"`
	RowsRead         int64        `json:"rowsRead"`
	RowsRefused      int64        `json:"rowsRefused"`
	RowsAlreadyThere int64        `json:"rowsAlreadyThere"`
	ParentsCreated   int64        `json:"parentsCreated"`
	ChildrenCreated  int64        `json:"childrenCreated"`
	BillLinksCreated int64        `json:"billLinksCreated"`
	BillsCreated     int64        `json:"billsCreated"`
	AlreadyImported  bool         `json:"alreadyImported"`
	Error            *string      `json:"error,omitempty"`
}

func auditOfImport(j *ImportJob) *importAudit {
	return &importAudit{FileName: j.FileName, Format: j.Format, Status: j.Status, RowsRead: j.RowsRead,
		RowsRefused: j.RowsRefused, RowsAlreadyThere: j.RowsAlreadyThere, ParentsCreated: j.ParentsCreated,
		ChildrenCreated: j.ChildrenCreated, BillLinksCreated: j.BillLinksCreated, BillsCreated: j.BillsCreated,
		AlreadyImported: j.AlreadyImported(), Error: j.Error}
}

// ImportRefusal is one refused row of a job's report.
type ImportRefusal struct {
	SheetNo int    `db:"sheet_no"`
	Sheet   string `db:"sheet"`
	RowNo   int64  `db:"row_no"`
	Input   string `db:"input"`
	Reason  string `db:"reason"`
}

// ImportRefusals hands the job's refused rows to each, in file order, in the exports' keyset
// batches (inBatches), so a report of a million rows takes constant memory.
func (s *Store) ImportRefusals(ctx context.Context, jobID int64, each func(*ImportRefusal) error) error {
	return inBatches(ctx, s.exportQueries, func(page Page) ([]*ImportRefusal, bool, error) {
		var batch []*ImportRefusal
		err := s.db.SelectContext(ctx, &batch, `
			SELECT sheet_no, sheet, row_no, input, reason
			FROM import_refusals
			WHERE job_id = $1 AND (sheet_no, row_no) > ($2, $3)
			ORDER BY sheet_no, row_no
			LIMIT $4`, jobID, page.AfterID>>refusalRowBits, page.AfterID&(1<<refusalRowBits-1), page.Limit+1)
		if err != nil {
			return nil, false, wrap(err, "read import report")
		}
		batch, more := trim(batch, page)
		return batch, more, nil
	}, (*ImportRefusal).position, each)
}

// refusalRowBits: a refusal's place in the file as one keyset id, its sheet above the row.
const refusalRowBits = 40

func (r *ImportRefusal) position() int64 { return int64(r.SheetNo)<<refusalRowBits | r.RowNo }

// ImportChunk applies one chunk of a job's rows in one transaction and adds what it did to
// the job's counters (committed together, so progress is exact at every moment). The rows
// are copied into a staging table and judged set-based, every row in one pass once its
// parents and bills are locked, then the accepted rows go in with one INSERT ... SELECT per
// table; the constraints and triggers of the data model apply to them as to every scan.
func (s *Store) ImportChunk(ctx context.Context, a Actor, jobID int64, settings ImportSettings, areaID *int64, rows []ImportRow,
	turn LockTurn) error {
	defer turn.Pass()
	if err := MayImport(a); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		// a chunk of tens of thousands of rows may take longer than a request's statement
		// timeout on a loaded server; the import's own pace bounds it instead
		if _, err := tx.ExecContext(ctx, `SET LOCAL statement_timeout = '10min'`); err != nil {
			return wrap(err, "import: set timeout")
		}
		if _, err := tx.ExecContext(ctx, importPlan); err != nil {
			return wrap(err, "import: plan lookups")
		}
		if err := stageImportRows(ctx, tx, rows); err != nil {
			return err
		}
		params := importParams{job: jobID, area: areaID, user: a.UserID, capacity: settings.ChildrenPerParent}
		if err := turn.await(ctx); err != nil {
			return err
		}
		if err := runImportSteps(ctx, tx, stepsInTurn, params); err != nil {
			return err
		}
		turn.Pass()
		if err := runImportSteps(ctx, tx, stepsJudging, params); err != nil {
			return err
		}
		shape := shapeOf(rows)
		if _, err := tx.ExecContext(ctx, judgeRows(shape.repeatedChildren), params.area); err != nil {
			return wrap(err, "import: judge rows")
		}
		allIn, err := importChildren(ctx, tx, params.user)
		if err != nil {
			return err
		}
		steps := stepsClosing
		if !allIn {
			steps = append([]importStep{refuseChildrenNotIn}, steps...)
		}
		if shape.parentsOnBills || shape.bills {
			steps = append(slices.Concat(
				pick(shape.parentsOnBills, stepsParentBills), pick(shape.bills, stepsBills)), steps...)
		}
		return runImportSteps(ctx, tx, steps, params)
	})
}

// chunkShape says which statements a chunk needs: the bill steps of parent rows that name a
// bill and those of bill rows, the judging of children named twice; without such rows they
// would find nothing to decide.
type chunkShape struct{ parentsOnBills, bills, repeatedChildren bool }

func shapeOf(rows []ImportRow) chunkShape {
	var k chunkShape
	children := make(map[string]struct{}, len(rows))
	for _, r := range rows {
		k.parentsOnBills = k.parentsOnBills || (r.Kind == ImportParent && r.Bill != "")
		k.bills = k.bills || r.Kind == ImportBill
		if r.Kind == ImportChild && r.Child != "" && r.Refusal == "" {
			_, seen := children[r.Child]
			k.repeatedChildren = k.repeatedChildren || seen
			children[r.Child] = struct{}{}
		}
	}
	return k
}

// pick is steps when wanted, else none.
func pick(wanted bool, steps []importStep) []importStep {
	if wanted {
		return steps
	}
	return nil
}

// runImportSteps runs the steps in order.
func runImportSteps(ctx context.Context, tx *sqlx.Tx, steps []importStep, params importParams) error {
	for _, step := range steps {
		if _, err := tx.ExecContext(ctx, step.sql, step.args(params)...); err != nil {
			return wrap(err, "import: "+step.name)
		}
	}
	return nil
}

// importPlan steers the planner of a chunk's statements to index lookups. A chunk touches a
// few ten thousand bags of millions, but priced with the defaults each step hashed a full scan
// of bags (1.1M rows: 0.6-1.5 s a step on the shared machine), or probed the trigram index
// (bags_qr_trgm, for searches) by bitmap scan, 30 times slower than the unique btree. Without
// hash and merge joins and bitmap scans, every join with bags probes bags_qr_key or
// bags_pkey once per staged row, and the staging table's own joins use its indexes.
const importPlan = `SET LOCAL jit = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_bitmapscan = off`

// LockTurn orders concurrent chunks of one job where they meet: a chunk creates and locks its
// parents and bills only after the chunk before it has (Wait is closed), then lets the next
// one go on (it closes Done). Rows of a parent or a bill split over two chunks are then judged
// in file order (the later chunk waits on the earlier one's locks until it commits), and two
// chunks never wait on each other's new parents. The zero LockTurn waits for nothing.
type LockTurn struct {
	Wait <-chan struct{}
	Done chan struct{}
	once *sync.Once
}

// NextLockTurn returns the turn of the chunk after the one whose turn is prev.
func NextLockTurn(prev LockTurn) LockTurn {
	return LockTurn{Wait: prev.Done, Done: make(chan struct{}), once: &sync.Once{}}
}

func (t LockTurn) await(ctx context.Context) error {
	if t.Wait == nil {
		return nil
	}
	select {
	case <-t.Wait:
		return nil
	case <-ctx.Done():
		return wrap(ctx.Err(), "import: wait for the chunk before")
	}
}

// Pass lets the next chunk take its locks (once, also when this chunk failed).
func (t LockTurn) Pass() {
	if t.Done != nil {
		t.once.Do(func() { close(t.Done) })
	}
}

// stageImportRows copies the rows into a staging table that lives as long as the transaction.
func stageImportRows(ctx context.Context, tx *sqlx.Tx, rows []ImportRow) error {
	_, err := tx.ExecContext(ctx, `
		CREATE TEMP TABLE import_staging (
			seq         integer NOT NULL,
			sheet_no    integer NOT NULL,
			sheet       text NOT NULL,
			row_no      bigint NOT NULL,
			input       text NOT NULL,
			kind        text NOT NULL,
			parent      text COLLATE "C",
			child       text COLLATE "C",
			bill        text COLLATE "C",
			description text,
			capacity    integer,
			refusal     text,
			parent_id   bigint,
			bill_id     bigint,
			-- 'created' (the row changed something) or 'there' (all it asks was there already)
			outcome     text
		-- room in every page, so that the steps' updates stay HOT (no index entries per update)
		) WITH (fillfactor = 40) ON COMMIT DROP`)
	if err != nil {
		return wrap(err, "import: create staging table")
	}
	// the rows go as one array a column (empty for NULL): one statement, where a COPY took a
	// driver call a row (database/sql's checks of each value cost more than the encoding)
	var c stagedColumns
	for _, r := range rows {
		c.add(r)
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO import_staging (seq, sheet_no, sheet, row_no, input, kind, parent, child, bill, description, capacity, refusal)
		SELECT u.seq, u.sheet_no, u.sheet, u.row_no, u.input, u.kind, nullif(u.parent, ''), nullif(u.child, ''), nullif(u.bill, ''),
		       nullif(u.description, ''), nullif(u.capacity, 0), nullif(u.refusal, '')
		FROM unnest($1::integer[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		            $9::text[], $10::integer[], $11::text[])
		     WITH ORDINALITY AS u(sheet_no, sheet, row_no, input, kind, parent, child, bill, description, capacity, refusal, seq)`,
		c.sheetNo, c.sheet, c.rowNo, c.input, c.kind, c.parent, c.child, c.bill, c.description, c.capacity, c.refusal)
	if err != nil {
		return wrap(err, "import: stage rows")
	}
	_, err = tx.ExecContext(ctx, `
		-- what the chunk created, added to the job in its last statement: concurrent chunks of
		-- a job then hold the job's row lock only from there to their commit
		CREATE TEMP TABLE import_counts ON COMMIT DROP AS
			SELECT 0::bigint AS parents, 0::bigint AS children, 0::bigint AS bill_links, 0::bigint AS bills;
		-- the parents the chunk names, as locked (or the child bags they are, for the refusal)
		CREATE TEMP TABLE import_parents (
			qr             text COLLATE "C" PRIMARY KEY,
			id             bigint NOT NULL,
			type           text NOT NULL,
			parent_qr      text,
			area_id        integer,
			capacity       integer,
			child_count    integer,
			billed         boolean,
			completed_bill text
		) ON COMMIT DROP;
		CREATE UNIQUE INDEX ON import_staging (seq);
		CREATE INDEX ON import_staging (parent) WHERE parent IS NOT NULL;
		CREATE INDEX ON import_staging (bill) WHERE bill IS NOT NULL;
		-- the columns the steps filter and join on (all of them cost twice as much)
		ANALYZE import_staging (seq, kind, parent, child, bill, refusal, outcome, parent_id, bill_id)`)
	return wrap(err, "import: index staging table")
}

// stagedColumns are a chunk's rows column by column, as the staging statement takes them.
type stagedColumns struct {
	sheetNo, rowNo, capacity                                      pq.Int64Array
	sheet, input, kind, parent, child, bill, description, refusal pq.StringArray
}

func (c *stagedColumns) add(r ImportRow) {
	c.sheetNo = append(c.sheetNo, int64(r.SheetNo))
	c.rowNo = append(c.rowNo, r.RowNo)
	c.capacity = append(c.capacity, int64(r.Capacity))
	c.sheet = append(c.sheet, r.Sheet)
	c.input = append(c.input, r.Input)
	c.kind = append(c.kind, string(r.Kind))
	c.parent = append(c.parent, r.Parent)
	c.child = append(c.child, r.Child)
	c.bill = append(c.bill, r.Bill)
	c.description = append(c.description, r.Description)
	c.refusal = append(c.refusal, r.Refusal)
}

// importParams are the values the import steps refer to as $1...
type importParams struct {
	job      int64
	area     *int64
	user     *int64
	capacity int
}

// importStep is one set-based statement of a chunk's import.
type importStep struct {
	name string
	sql  string
	args func(importParams) []any
}

func none(importParams) []any            { return nil }
func withJob(p importParams) []any       { return []any{p.job} }
func withNewParent(p importParams) []any { return []any{p.area, p.capacity, p.user} }
func withUser(p importParams) []any      { return []any{p.user} }

// pending is the condition of a staged row still undecided: neither refused nor known to be
// there already.
const pending = `s.refusal IS NULL AND s.outcome IS NULL`

// sameBill: the staged bill row s asks for the bill as the row other has it.
func sameBill(other string) string {
	return "(" + other + ".capacity = s.capacity AND " + other + ".description IS NOT DISTINCT FROM s.description)"
}

// The steps judge and apply a staged chunk, in order. Each step refuses rows (setting
// refusal) or settles them (outcome 'there'), for all rows at once; the reason names what to
// do. A child row that goes in keeps both NULL (the rows are not written again for it).
// Lock order as everywhere: parent bags by id, then bills.

// stepsInTurn create and lock the parents and bills the chunk names, in the order of the
// chunks (LockTurn). What the judging needs of a parent is read into import_parents as it is
// locked, once per parent instead of once per row.
var stepsInTurn = []importStep{
	// Parents named by the chunk that do not exist yet are created (in the dispatch area of
	// the import); each parent row that created one counts as created.
	{"create parents", `
		WITH created AS (
			INSERT INTO bags (qr, type, area_id, capacity, created_by)
			SELECT named.parent, 'PARENT', $1::integer, $2::integer, $3::bigint
			FROM (SELECT DISTINCT s.parent FROM import_staging s WHERE ` + pending + ` AND s.parent IS NOT NULL) named
			WHERE NOT EXISTS (SELECT 1 FROM bags b WHERE b.qr = named.parent)
			ORDER BY 1
			ON CONFLICT (qr) DO NOTHING
			RETURNING qr
		), counted AS (
			UPDATE import_counts SET parents = parents + (SELECT count(*) FROM created)
		)
		UPDATE import_staging s SET outcome = 'created'
		FROM (SELECT DISTINCT ON (f.parent) f.seq FROM import_staging f JOIN created c ON c.qr = f.parent
		      WHERE f.kind = 'PARENT' AND f.refusal IS NULL ORDER BY f.parent, f.seq) first
		WHERE s.seq = first.seq`, withNewParent},

	// the row lock returns the parent's latest version: its capacity, children and bill mark
	// stay as read until the chunk commits (every writer of them locks the parent first)
	{"lock parents", `
		INSERT INTO import_parents (qr, id, type, area_id, capacity, child_count, billed)
		SELECT b.qr, b.id, b.type, b.area_id, b.capacity, b.child_count, b.billed
		FROM bags b
		WHERE b.qr IN (SELECT s.parent FROM import_staging s WHERE s.refusal IS NULL AND s.parent IS NOT NULL)
		  AND b.type = 'PARENT'
		ORDER BY b.id
		FOR NO KEY UPDATE OF b`, none},

	{"lock bills", `
		SELECT 1 FROM bills
		WHERE id IN (SELECT bb.bill_id FROM import_parents p JOIN bill_bags bb ON bb.bag_id = p.id WHERE p.billed
		             UNION SELECT b.id FROM import_staging s JOIN bills b ON b.bill_number = s.bill WHERE s.kind = 'PARENT')
		ORDER BY id
		FOR NO KEY UPDATE`, none},
}

// stepsJudging decide every row a parent or a child decides, in one pass, under the locks.
var stepsJudging = []importStep{
	{"find child bags named as parents", `
		INSERT INTO import_parents (qr, id, type, parent_qr)
		SELECT b.qr, b.id, b.type, p.qr
		FROM bags b LEFT JOIN bags p ON p.id = b.parent_id
		WHERE b.qr IN (SELECT s.parent FROM import_staging s WHERE ` + pending + ` AND s.parent IS NOT NULL)
		  AND b.type = 'CHILD'`, none},

	// the planner, told nothing of import_parents, scanned it whole for every staged row
	{"count parents", `ANALYZE import_parents`, none},

	{"find completed bills", `
		UPDATE import_parents p SET completed_bill = bl.bill_number
		FROM bill_bags bb JOIN bills bl ON bl.id = bb.bill_id
		WHERE p.billed AND bb.bag_id = p.id AND bl.completed_at IS NOT NULL`, none},
}

// judgeRows is the one pass that decides every row of a chunk, each rule in the order of
// precedence: each rule in the order of precedence: a parent that is a child bag or of
// another area refuses all its rows; a child that exists is there already in the parent
// asked and refused in another (facts); a child named twice is decided by its first row
// still undecided (repeats); of the children still undecided, those of a parent on a
// completed bill and those past the parent's room in file order are refused (ranked); a
// repeated child whose first row was refused so did not go in either (settled).
// A chunk without a child named twice (repeated, which the caller tells from the rows) is
// judged without the two sorts by child that find the first rows.
func judgeRows(repeated bool) string {
	repeats, firstRefused := `
				SELECT f.*, false AS repeated, NULL::boolean AS repeat_there, NULL::text AS repeat_refused, f.undecided AS still
				FROM facts f
`, `NULL`
	if repeated {
		repeats = `				SELECT r.*, r.undecided AND NOT coalesce(r.repeat_there, false) AND r.repeat_refused IS NULL AS still
				FROM (
					SELECT f.*, f.undecided AND f.seq <> f.first_seq AS repeated,
					       f.undecided AND f.seq <> f.first_seq AND f.first_parent_id = f.parent_id AS repeat_there,
					       CASE WHEN f.undecided AND f.seq <> f.first_seq AND f.first_parent_id <> f.parent_id
					           THEN format('child %s is already in parent %s (row %s)', f.child, f.first_parent, f.first_row) END
					           AS repeat_refused
					FROM (
						SELECT f.*, first_value(f.seq) OVER w AS first_seq, first_value(f.parent_id) OVER w AS first_parent_id,
						       first_value(f.parent) OVER w AS first_parent, first_value(f.row_no) OVER w AS first_row
						FROM facts f
						WINDOW w AS (PARTITION BY f.child, f.undecided ORDER BY f.seq)
					) f
				) r
`
		firstRefused = `CASE WHEN r.repeat_there
				                          AND bool_or(r.undecided AND NOT r.repeated AND (r.frozen IS NOT NULL OR coalesce(r.full, false)))
				                              OVER (PARTITION BY r.child)
				                    THEN format('child %s did not go into parent %s: an earlier row naming it was refused', r.child, r.parent)
				                END`
	}
	return `
		UPDATE import_staging s SET refusal = j.refusal, outcome = j.outcome
		FROM (
			WITH facts AS (
				SELECT x.*, x.kind = 'CHILD' AND x.refused IS NULL AND NOT x.there AS undecided
				FROM (
					SELECT s.seq, s.kind, s.parent, s.child, s.row_no, p.id AS parent_id, p.capacity, p.child_count,
					       p.completed_bill,
					       CASE
					           WHEN p.type = 'CHILD' AND s.outcome IS NULL
					               THEN format('%s is a child bag (in parent %s), not a parent', s.parent, coalesce(p.parent_qr, '?'))
					           WHEN p.type = 'PARENT' AND $1::integer IS NOT NULL AND p.area_id IS DISTINCT FROM $1::integer
					               THEN format('parent %s is in dispatch area %s, not in %s; import it with that area or none', s.parent,
					                           coalesce((SELECT code FROM areas WHERE id = p.area_id), 'none'),
					                           (SELECT code FROM areas WHERE id = $1::integer))
					           WHEN b.type = 'PARENT' THEN format('%s is a parent bag; a child cannot be a parent', s.child)
					           WHEN b.parent_id <> p.id
					               THEN format('child %s is already in parent %s; unlink it there first', s.child,
					                           (SELECT qr FROM bags WHERE id = b.parent_id))
					       END AS refused,
					       coalesce(b.parent_id = p.id, false) AS there
					FROM import_staging s
					LEFT JOIN import_parents p ON p.qr = s.parent
					LEFT JOIN bags b ON s.kind = 'CHILD' AND b.qr = s.child
					WHERE s.refusal IS NULL
				) x
			), repeats AS (
` + repeats + `			), ranked AS (
				SELECT r.*, r.frozen IS NULL AND r.still
				            AND row_number() OVER (PARTITION BY r.parent_id, r.frozen IS NULL AND r.still ORDER BY r.seq)
				                > r.capacity - r.child_count AS full
				FROM (
					SELECT r.*, CASE WHEN r.still AND r.completed_bill IS NOT NULL
					    THEN format('parent %s is on bill %s, which is completed: its children cannot change; reopen the bill first',
					                r.parent, r.completed_bill) END AS frozen
					FROM repeats r
				) r
			), settled AS (
				SELECT r.seq, r.there, coalesce(r.repeat_there, false) AS repeat_there,
				       coalesce(r.refused, r.repeat_refused, r.frozen,
				                CASE WHEN r.full THEN format('parent %s is full: it holds at most %s children', r.parent, r.capacity) END,
				                ` + firstRefused + `
				                ) AS refusal
				FROM ranked r
			)
			SELECT seq, refusal, CASE WHEN refusal IS NULL AND (there OR repeat_there) THEN 'there' END AS outcome
			FROM settled
		) j
		WHERE s.seq = j.seq AND (j.refusal IS NOT NULL OR j.outcome IS NOT NULL)`
}

// importChildren inserts the children still undecided and answers whether every one went
// in. It tries a plain INSERT first: ON CONFLICT's speculative insertion costs a tenth of the
// children's insert, and a conflict (a code a concurrent scan linked after the judging) is
// rare; on one, the INSERT is undone to a savepoint and run again with ON CONFLICT DO NOTHING.
func importChildren(ctx context.Context, tx *sqlx.Tx, user *int64) (bool, error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT import_children`); err != nil {
		return false, wrap(err, "import: create children")
	}
	var allIn bool
	err := tx.GetContext(ctx, &allIn, createChildren(""), user)
	if code, constraint := constraintName(err); code == pqUniqueViolation && constraint == "bags_qr_key" {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT import_children`); err != nil {
			return false, wrap(err, "import: create children")
		}
		err = tx.GetContext(ctx, &allIn, createChildren("ON CONFLICT (qr) DO NOTHING"), user)
	}
	return allIn, wrap(err, "import: create children")
}

// createChildren is the INSERT of the children still undecided, with the conflict clause
// given, answering whether every one went in. One that did not lost its code to a concurrent
// scan, or had no parent left (refuseChildrenNotIn says which).
func createChildren(onConflict string) string {
	return `
	WITH undecided AS MATERIALIZED (
		SELECT s.child, p.id AS parent_id, p.area_id
		FROM import_staging s LEFT JOIN import_parents p ON p.qr = s.parent AND p.type = 'PARENT'
		WHERE ` + pending + ` AND s.kind = 'CHILD'
	), created AS (
		INSERT INTO bags (qr, type, parent_id, area_id, created_by)
		SELECT u.child, 'CHILD', u.parent_id, u.area_id, $1::bigint
		FROM undecided u
		WHERE u.parent_id IS NOT NULL
		ORDER BY u.child
		` + onConflict + `
		RETURNING 1
	), counted AS (
		UPDATE import_counts SET children = children + (SELECT count(*) FROM created)
	)
	SELECT (SELECT count(*) FROM undecided) = (SELECT count(*) FROM created)`
}

// A child row still undecided that is not in its parent lost its code to a concurrent scan; one
// judged there already by an earlier row of the chunk is not, if that row was refused.
var refuseChildrenNotIn = importStep{"refuse children that did not go in", `
	UPDATE import_staging s
	SET outcome = NULL,
	    refusal = CASE WHEN s.outcome IS NULL
	        THEN format('child %s was scanned into a bag while the import ran; import the file again to see where', s.child)
	        ELSE format('child %s did not go into parent %s: an earlier row naming it was refused', s.child, s.parent) END
	WHERE s.refusal IS NULL AND s.kind = 'CHILD'
	  AND NOT EXISTS (SELECT 1 FROM bags b JOIN import_parents p ON p.id = b.parent_id
	                  WHERE b.qr = s.child AND p.qr = s.parent AND p.type = 'PARENT')`, none}

// stepsParentBills judge and link the parent rows that name a bill (run only for chunks
// that have any).
var stepsParentBills = []importStep{
	{"find parents of bill rows", `
		UPDATE import_staging s SET parent_id = p.id
		FROM import_parents p
		WHERE s.refusal IS NULL AND s.kind = 'PARENT' AND s.bill IS NOT NULL AND p.qr = s.parent AND p.type = 'PARENT'`, none},

	{"find bills", `
		UPDATE import_staging s
		SET bill_id = b.id
		FROM bills b
		WHERE s.refusal IS NULL AND s.kind = 'PARENT' AND b.bill_number = s.bill`, none},

	{"refuse unknown bills", `
		UPDATE import_staging s
		SET refusal = format('bill %s does not exist; import the bills CSV or create the bill first', s.bill)
		WHERE s.refusal IS NULL AND s.kind = 'PARENT' AND s.bill IS NOT NULL AND s.bill_id IS NULL`, none},

	// A parent already on a bill is there already on the bill asked, refused on another.
	{"judge parents already billed", `
		UPDATE import_staging s
		SET outcome = CASE WHEN bb.bill_id = s.bill_id THEN coalesce(s.outcome, 'there') ELSE s.outcome END,
		    refusal = CASE WHEN bb.bill_id <> s.bill_id
		        THEN format('parent %s is on bill %s; unlink it there first', s.parent, bl.bill_number) END
		FROM bill_bags bb JOIN bills bl ON bl.id = bb.bill_id
		WHERE s.refusal IS NULL AND s.kind = 'PARENT' AND s.bill_id IS NOT NULL AND bb.bag_id = s.parent_id`, none},

	// the parents still to be linked are marked by link = true below: their bill_id is set
	// and no bill_bags row links them yet
	{"judge repeated bill parents", `
		UPDATE import_staging s
		SET refusal = CASE WHEN first.bill_id <> s.bill_id
		        THEN format('parent %s is put on bill %s at row %s', s.parent, first.bill, first.row_no) END,
		    outcome = CASE WHEN first.bill_id = s.bill_id THEN coalesce(s.outcome, 'there') ELSE s.outcome END
		FROM (SELECT DISTINCT ON (parent_id) parent_id, seq, bill, bill_id, row_no
		      FROM import_staging s
		      WHERE s.refusal IS NULL AND s.kind = 'PARENT' AND s.bill_id IS NOT NULL
		        AND NOT EXISTS (SELECT 1 FROM bill_bags bb WHERE bb.bag_id = s.parent_id)
		      ORDER BY parent_id, seq) first
		WHERE s.refusal IS NULL AND s.kind = 'PARENT' AND s.parent_id = first.parent_id AND s.seq <> first.seq
		  AND NOT EXISTS (SELECT 1 FROM bill_bags bb WHERE bb.bag_id = s.parent_id)`, none},

	{"refuse parents of completed bills", `
		UPDATE import_staging s
		SET refusal = format('bill %s is completed: no parent bag joins it; reopen it first', s.bill)
		FROM bills b
		WHERE s.refusal IS NULL AND s.kind = 'PARENT' AND b.id = s.bill_id AND b.completed_at IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM bill_bags bb WHERE bb.bag_id = s.parent_id)`, none},

	{"refuse parents over bill capacity", `
		UPDATE import_staging s
		SET refusal = format('bill %s is full: it holds at most %s parent bags', s.bill, b.capacity)
		FROM (SELECT seq, bill_id, row_number() OVER (PARTITION BY bill_id ORDER BY seq) AS n
		      FROM (SELECT DISTINCT ON (s.parent_id) s.seq, s.bill_id
		            FROM import_staging s
		            WHERE s.refusal IS NULL AND s.kind = 'PARENT' AND s.bill_id IS NOT NULL
		              AND NOT EXISTS (SELECT 1 FROM bill_bags bb WHERE bb.bag_id = s.parent_id)
		            ORDER BY s.parent_id, s.seq) first) ranked
		JOIN bills b ON b.id = ranked.bill_id
		WHERE s.seq = ranked.seq AND ranked.n > b.capacity - b.parent_bag_count`, none},

	{"link parents to bills", `
		WITH linked AS (
			INSERT INTO bill_bags (bag_id, bill_id, linked_by)
			SELECT DISTINCT ON (s.parent_id) s.parent_id, s.bill_id, $1::bigint
			FROM import_staging s
			WHERE s.refusal IS NULL AND s.kind = 'PARENT' AND s.bill_id IS NOT NULL
			  AND NOT EXISTS (SELECT 1 FROM bill_bags bb WHERE bb.bag_id = s.parent_id)
			ORDER BY s.parent_id, s.seq
			ON CONFLICT (bag_id) DO NOTHING
			RETURNING bag_id
		), counted AS (
			UPDATE import_counts SET bill_links = bill_links + (SELECT count(*) FROM linked)
		)
		UPDATE import_staging s SET outcome = 'created'
		FROM (SELECT DISTINCT ON (f.parent_id) f.seq FROM import_staging f JOIN linked l ON l.bag_id = f.parent_id
		      WHERE f.refusal IS NULL AND f.kind = 'PARENT' ORDER BY f.parent_id, f.seq) first
		WHERE s.seq = first.seq`, withUser},

	// as for children: a parent row that asked for a link that is not there was refused
	// through its first row, or lost to a concurrent link
	{"refuse bill links that did not go in", `
		UPDATE import_staging s
		SET outcome = NULL,
		    refusal = format('parent %s did not join bill %s: an earlier row naming it was refused, or it was linked meanwhile',
		                     s.parent, s.bill)
		WHERE s.refusal IS NULL AND s.kind = 'PARENT' AND s.bill_id IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM bill_bags bb WHERE bb.bag_id = s.parent_id AND bb.bill_id = s.bill_id)`, none},
}

// stepsBills judge and create the bill rows (run only for chunks that have any).
var stepsBills = []importStep{
	// Bills: one that exists with the same details is there already; other details are
	// refused (the bill is left as it is); a bill named twice is decided by its first row.
	{"judge existing bills", `
		UPDATE import_staging s
		SET outcome = CASE WHEN ` + sameBill("b") + ` THEN 'there' END,
		    refusal = CASE WHEN NOT ` + sameBill("b") + ` THEN format('bill %s already exists with capacity %s and description %s; it is left as it is',
		                                             s.bill, b.capacity, coalesce(quote_literal(b.description), 'none')) END
		FROM bills b
		WHERE ` + pending + ` AND s.kind = 'BILL' AND b.bill_number = s.bill`, none},

	{"judge repeated bills", `
		UPDATE import_staging s
		SET outcome = CASE WHEN ` + sameBill("first") + ` THEN 'there' END,
		    refusal = CASE WHEN NOT ` + sameBill("first") + ` THEN format('bill %s is already at row %s with capacity %s and description %s; this row is left out',
		                                                  s.bill, first.row_no, first.capacity, coalesce(quote_literal(first.description), 'none')) END
		FROM (SELECT DISTINCT ON (bill) bill, seq, row_no, capacity, description
		      FROM import_staging s WHERE ` + pending + ` AND s.kind = 'BILL' ORDER BY bill, seq) first
		WHERE ` + pending + ` AND s.kind = 'BILL' AND s.bill = first.bill AND s.seq <> first.seq`, none},

	{"create bills", `
		WITH created AS (
			INSERT INTO bills (bill_number, description, capacity, created_by)
			SELECT s.bill, s.description, s.capacity, $1::bigint
			FROM import_staging s
			WHERE ` + pending + ` AND s.kind = 'BILL'
			ORDER BY s.bill
			ON CONFLICT (bill_number) DO NOTHING
			RETURNING bill_number
		), counted AS (
			UPDATE import_counts SET bills = bills + (SELECT count(*) FROM created)
		)
		UPDATE import_staging s SET outcome = 'created'
		FROM created c
		WHERE ` + pending + ` AND s.kind = 'BILL' AND s.bill = c.bill_number`, withUser},
}

// stepsClosing keep the refusals and add what the chunk did to the job.
var stepsClosing = []importStep{
	{"keep refusals", `
		INSERT INTO import_refusals (job_id, sheet_no, sheet, row_no, input, reason)
		SELECT $1, sheet_no, sheet, row_no, input, refusal
		FROM import_staging
		WHERE refusal IS NOT NULL
		ON CONFLICT (job_id, sheet_no, row_no) DO NOTHING`, withJob},

	// Rows neither refused nor creating anything asked for what was there already; a child
	// row that went in is the one row not refused of its child, and keeps no outcome.
	{"count rows", `
		UPDATE import_jobs j
		SET rows_read = j.rows_read + c.n, rows_refused = j.rows_refused + c.refused,
		    rows_already_there = j.rows_already_there + c.there - made.children, parents_created = j.parents_created + made.parents,
		    children_created = j.children_created + made.children, bill_links_created = j.bill_links_created + made.bill_links,
		    bills_created = j.bills_created + made.bills, updated_at = now()
		FROM (SELECT count(*) AS n, count(*) FILTER (WHERE refusal IS NOT NULL) AS refused,
		             count(*) FILTER (WHERE refusal IS NULL AND outcome IS DISTINCT FROM 'created') AS there
		      FROM import_staging) c, import_counts made
		WHERE j.id = $1`, withJob},
}
