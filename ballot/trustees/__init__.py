"""The trustees' cryptography: a vote's key held k of n, so that no single party can open ballots early.

- ``keys``: a trustee's own key pair, its passphrase-protected file and its fingerprint.
- ``shares``: at the opening, the vote's key wrapped under a fresh key that is
  split among the trustees; at the close, any k checked shares unwrap it.
- ``collection``: the close's requests to the trustees and their answers.

Everything here takes and returns plain values; the service stores them and
the trustees' commands (``ballot trustee ...``) read and write them as files.
The whole composition is told in docs/TRUSTEES.md.
"""
