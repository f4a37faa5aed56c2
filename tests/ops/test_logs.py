"""somstack.core.logs: the library's progress lines as the operator reads them (the message
alone on stderr, looked up when written), quiet outside a command, silenced on request."""

import logging

from somstack.core import logs

log = logging.getLogger("somstack.ops.example")


def test_a_command_writes_the_message_alone_on_stderr_at_info(capsys):
    with logs.to_stderr():
        log.info("sending mint 10 KGST: Stablecoin contract 0x12")
        log.debug("not shown without -v")
    out, err = capsys.readouterr()
    assert (out, err) == ("", "sending mint 10 KGST: Stablecoin contract 0x12\n")


def test_verbose_shows_the_debug_lines(capsys):
    with logs.to_stderr(verbose=True):
        log.debug("the raw receipt")
    assert capsys.readouterr().err == "the raw receipt\n"


def test_no_handler_is_left_after_the_command(capsys):
    with logs.to_stderr():
        pass
    log.info("a library call outside any command")
    assert capsys.readouterr().err == ""
    assert not [h for h in logging.getLogger("somstack").handlers if type(h).__name__ == "_ConsoleHandler"]


def test_silenced_drops_the_info_lines_but_not_the_warnings(capsys):
    with logs.to_stderr():
        with logs.silenced():
            log.info("one line per batch")
            log.warning("the relayer runs low")
        log.info("after the bar")
    assert capsys.readouterr().err == "the relayer runs low\nafter the bar\n"


def test_a_logger_with_a_format_of_its_own_keeps_it_and_its_children_do_not(capsys):
    with logs.to_stderr():
        logs.use_format("somstack.relay", "relay %(levelname)s %(message)s")
        logging.getLogger("somstack.relay").info("serving chain 31337")
        logging.getLogger("somstack.relay.run").info("listening on http://127.0.0.1:8080")
    assert capsys.readouterr().err == "relay INFO serving chain 31337\nlistening on http://127.0.0.1:8080\n"


def test_the_scripts_write_on_stdout(capsys):
    handler = logs.configure(stream="stdout")
    try:
        log.info("placed WBNB at its BSC mainnet address (bsc-local)")
    finally:
        logging.getLogger("somstack").removeHandler(handler)
        logging.getLogger("somstack").setLevel(logging.NOTSET)
    assert capsys.readouterr() == ("placed WBNB at its BSC mainnet address (bsc-local)\n", "")
