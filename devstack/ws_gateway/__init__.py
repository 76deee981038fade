"""A local API Gateway WebSocket API, so the Chalice app's websocket handlers run unchanged.

Clients connect to a `websockets` server; connects, frames and disconnects become API Gateway
WebSocket Lambda proxy events for the "$connect" / "$default" / "$disconnect" handlers. The app
answers through the API Gateway Management API (boto3 "apigatewaymanagementapi" with
endpoint_url=management_endpoint), served here by a ThreadingHTTPServer.

Threads: one runs the asyncio event loop (all websocket I/O and the connection registry), one
serves the Management API, and a pool runs the handlers. Handlers never run on the loop: they
make blocking boto3 calls back into the Management API, which needs the loop to deliver them.

Frame and post bodies carry chat text, so they are never logged.

Modules, one concern each:
- gateway: WebSocketGateway, which starts and stops the pieces below and owns their threads;
- websocket_server: the clients' side, where the handshake, frames and closes run the handlers;
- events: the Lambda proxy events those handlers receive;
- handlers: finding the handlers on a Chalice app, and running them as a Lambda would;
- registry: the open connections by id, which the Management API reaches;
- management_api: PostToConnection, GetConnection and DeleteConnection over HTTP.
"""

from .gateway import WebSocketGateway
from .handlers import Handler, chalice_websocket_handlers

__all__ = ["Handler", "WebSocketGateway", "chalice_websocket_handlers"]
