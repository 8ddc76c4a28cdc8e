//! Routing: routes and ETAs over the road graph with observed speeds (the issue "Routing with
//! observed speeds, addresses, and the routes page"). Empty until then.
