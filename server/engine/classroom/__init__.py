"""A class in session: what the teacher's console watches and steers, and the wall shows.

Each concept has its own module (docs/architecture.md names them); import the module, not this
package: it re-exports nothing.
"""
