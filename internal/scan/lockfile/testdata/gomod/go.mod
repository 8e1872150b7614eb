module example.com/site

go 1.22

require (
	golang.org/x/text v0.3.7
	github.com/gorilla/websocket v1.4.0
)

require golang.org/x/net v0.0.0-20211112202133-69e39bad7dc2 // indirect

replace github.com/gorilla/websocket v1.4.0 => github.com/gorilla/websocket v1.4.1
