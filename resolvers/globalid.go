package resolvers

// UserIDOf returns the database id of a user's global id (for the CSV export's createdById
// parameter), or BAD_USER_INPUT.
func UserIDOf(global string) (int64, error) {
	return decodeID(kindUser, global)
}
