"""The one layer that reads and probes a running lab, under every feature: the lab's
handle and what its swarm says (running.py), its topology (topology.py), commands in a
task's network namespace (netns.py), what a capture shows (wire.py), whether its services
have settled (settle.py), an HTTP GET to a lab service (http.py), and the snapshots a drill
watches (snapshot.py). Features (verify, compare, drills, lessons, report, ui) read the lab
through it."""
