"""The studio: a class's own clip set, recorded or uploaded in the page, trained into a bundle.

A library without gradio (the Train tab in har_demo/app/studio_tab.py is a thin layer over it):

    limits.py    what a host allows (classes, clips, seconds, training time, upload size)
    errors.py    the refusals, one type each, every message a sentence for a person
    classset.py  a per-session folder in the UCF layout, frames decoded as each clip arrives
    archive.py   zip export, and a zip import that refuses anything unsafe
    sessions.py  per-session folders, removed when a session ends or grows old
    trainer.py   one training at a time per process, progress per epoch, Stop, a bundle at the end
    train_process.py  that training in a niced child process, always reaped
"""
