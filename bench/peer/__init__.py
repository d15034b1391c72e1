"""The bench's peer: a minimal Django project around django-postman 4.6 (installed as a
package, not copied), with its own Postgres database and the same data shape as
Cruddur's scale cases, so `make bench` can measure the two side by side.

Postman pages its folders through dj-pagination (20 a page, its default) as its
templates expect; its conversation view renders the whole thread, so `views.py` shows
the newest 20 messages, as Cruddur's page does: a fair peer, not a strawman.
"""
