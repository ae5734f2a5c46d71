package resolvers

import (
	"tracetrack/db"
	"tracetrack/graph/model"
	"tracetrack/loaders"
)

// returnTicketConnection maps a store page of tickets to the GraphQL connection.
func returnTicketConnection(page *db.ReturnTicketPage) *model.ReturnTicketConnection {
	conn := &model.ReturnTicketConnection{Edges: make([]*model.ReturnTicketEdge, len(page.Tickets)),
		PageInfo: &model.PageInfo{HasNextPage: page.HasNext}, TotalCount: page.TotalCount}
	for i, t := range page.Tickets {
		conn.Edges[i] = &model.ReturnTicketEdge{Cursor: model.EncodeCursor(t.ID), Node: t}
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	return conn
}

// returnedBagConnection maps a page of a ticket's bags; the ticket's bagCount is the total.
func returnedBagConnection(page loaders.Page[*db.ReturnedBag], total int) *model.ReturnedBagConnection {
	conn := &model.ReturnedBagConnection{Edges: make([]*model.ReturnedBagEdge, len(page.Items)),
		PageInfo: &model.PageInfo{HasNextPage: page.HasNext}, TotalCount: total}
	for i, b := range page.Items {
		conn.Edges[i] = &model.ReturnedBagEdge{Cursor: model.EncodeCursor(page.Positions[i]), Node: b}
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	return conn
}
