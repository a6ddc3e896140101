// Package routing holds the small value types that every other package shares: an
// autonomous system number, a prefix range (a prefix with a length window) and the
// RFC 6811 route origin validation state. They live here, below irr, rpki, policy and
// render, so that one concept has one type across the project (irr and rpki do not
// import each other, and neither should have to convert the other's numbers).
package routing
