#!/usr/bin/python3
# The demo in a real browser (t/demo/browser.t runs it; run it with
# Debian's /usr/bin/python3, which has python3-selenium): headless
# Chromium, driven through chromedriver, walks the demo at BASE and
# prints what it saw as one JSON object on stdout; browser.t compares it
# with what it expects.  Nothing leaves the machine: every host name but
# 127.0.0.1 resolves to nothing, and Chromium's background traffic
# (component updates, metrics, sync, safe browsing) is off.  A page on
# another origin (a second loopback port, served from this process) holds
# the cross-site form.  The browser and the driver are stopped by their
# pids, and the profile under /tmp is removed, whatever happens.
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BASE = sys.argv[1].rstrip('/')
WAIT = 30
seen = {}


def foreign_server():
    """The other origin: a page whose form posts to the demo's protected
    /admin/ (a state-changing request that the cookie alone would
    authenticate)."""
    page = ('<!doctype html><title>elsewhere</title>'
            '<form method="post" action="%s/admin/">'
            '<input type="hidden" name="x" value="1">'
            '<button id="go" type="submit">go</button></form>' % BASE)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = page.encode()
            self.send_response(200)
            self.send_header('Content-Type', 'text/html; charset=utf-8')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def descendants(pid):
    """pid's child processes, and theirs, from /proc."""
    out = []
    try:
        for task in os.listdir('/proc/%d/task' % pid):
            with open('/proc/%d/task/%s/children' % (pid, task)) as f:
                for c in f.read().split():
                    out.append(int(c))
                    out.extend(descendants(int(c)))
    except OSError:
        pass
    return out


def kill_by_pid(pids, marker):
    """SIGKILL each pid still alive whose command line is ours (holds
    marker: the profile directory or the driver's path)."""
    for pid in pids:
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                if marker.encode() not in f.read():
                    continue
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def body_text(d):
    return d.find_element(By.TAG_NAME, 'body').text


def submit(d, element):
    """Click element and wait until the next page has replaced this one."""
    old = d.find_element(By.TAG_NAME, 'html')
    element.click()
    WebDriverWait(d, WAIT).until(EC.staleness_of(old))
    WebDriverWait(d, WAIT).until(
        lambda d: d.execute_script('return document.readyState')
        == 'complete')


def fill(d, name, value):
    """Type value into the field called name once the page holds it.
    Right after a navigation ChromeDriver can still answer for the
    document that went ("Node with given id does not belong to the
    document", seen once in CI): look again until WAIT runs out, then
    fail as before."""
    def typed(d):
        try:
            field = d.find_element(By.NAME, name)
            field.clear()
            field.send_keys(value)
            return field.get_attribute('value') == value
        except WebDriverException:
            return False
    WebDriverWait(d, WAIT).until(typed)


def login(d, user, password):
    WebDriverWait(d, WAIT).until(
        lambda d: d.execute_script('return document.readyState')
        == 'complete')
    fill(d, 'username', user)
    fill(d, 'password', password)
    submit(d, d.find_element(By.CSS_SELECTOR, '#login button'))


def cookie(d):
    c = d.get_cookie('jwt')
    if not c:
        return None
    return {k: c.get(k) for k in ('secure', 'httpOnly', 'sameSite', 'path')}


def walk(d, foreign):
    # / without a token: the login page, with return_to
    d.get(BASE + '/')
    seen['open /: url'] = d.current_url
    seen['open /: title'] = d.title
    # a wrong password: the login page again, with its error
    login(d, 'daehan', '4321')
    seen['wrong password: url'] = d.current_url
    seen['wrong password: error shown'] = \
        d.find_element(By.ID, 'error').is_displayed()
    seen['wrong password: no cookie'] = cookie(d)
    # the right one: back to /, greeted by name, with the cookie
    d.get(BASE + '/')
    login(d, 'daehan', '1234')
    seen['log in: url'] = d.current_url
    seen['log in: greeting'] = d.find_element(By.ID, 'greeting').text
    seen['log in: cookie'] = cookie(d)
    # reload: the cookie holds
    d.refresh()
    WebDriverWait(d, WAIT).until(
        lambda d: d.execute_script('return document.readyState')
        == 'complete')
    seen['reload: url'] = d.current_url
    seen['reload: greeting'] = d.find_element(By.ID, 'greeting').text
    d.get(BASE + '/admin/')
    seen['admin: heading'] = d.find_element(By.TAG_NAME, 'h1').text
    # a form on another origin (same site: another port of 127.0.0.1, so
    # the SameSite=Lax cookie goes with it) posting to /admin/
    d.get(foreign)
    seen['foreign page: title'] = d.title
    submit(d, d.find_element(By.ID, 'go'))
    seen['cross-site form: url'] = d.current_url
    seen['cross-site form: body'] = body_text(d)
    # log out: the login page again, the cookie gone
    d.get(BASE + '/')
    # the token itself, for browser.t to present again after the logout
    # (never printed on its own: browser.t only sends it)
    seen['token before log out'] = (d.get_cookie('jwt') or {}).get('value')
    submit(d, d.find_element(By.CSS_SELECTOR, '#logout button'))
    seen['log out: url'] = d.current_url
    seen['log out: title'] = d.title
    seen['log out: cookie'] = cookie(d)
    d.get(BASE + '/')
    seen['after log out, open /: url'] = d.current_url
    # open redirects: a return_to elsewhere lands on /
    for rt in ('//evil.example/', '/\\evil.example', 'https://evil.example/'):
        d.delete_all_cookies()
        d.get(BASE + '/login.html?return_to=' + urllib.parse.quote(rt, ''))
        login(d, 'daehan', '1234')
        seen['return_to %s: url' % rt] = d.current_url


def main():
    # timeout(1) in browser.t sends SIGTERM: unwind through the finally
    # below, which stops the browser and the driver
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    profile = tempfile.mkdtemp(prefix='jwtauth-chromium.', dir='/tmp')
    foreign = foreign_server()
    opts = webdriver.ChromeOptions()
    opts.binary_location = '/usr/bin/chromium'
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu',
              '--disable-dev-shm-usage', '--user-data-dir=' + profile,
              '--no-first-run', '--no-default-browser-check',
              '--disable-component-update', '--disable-background-networking',
              '--disable-sync', '--disable-default-apps',
              '--disable-extensions', '--disable-breakpad',
              '--disable-domain-reliability', '--metrics-recording-only',
              '--safebrowsing-disable-auto-update',
              '--disable-features=OptimizationHints,MediaRouter,'
              'Translate,AutofillServerCommunication',
              # only loopback resolves; everything else fails at once
              '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
              '--password-store=basic', '--window-size=1024,768'):
        opts.add_argument(a)
    service = Service('/usr/bin/chromedriver', log_path=os.devnull)
    d = None
    pids = []
    try:
        d = webdriver.Chrome(service=service, options=opts)
        d.set_page_load_timeout(WAIT)
        pids = [service.process.pid] + descendants(service.process.pid)
        walk(d, 'http://127.0.0.1:%d/' % foreign.server_address[1])
    except WebDriverException as e:
        seen['error'] = str(e).splitlines()[0] if str(e) else repr(e)
    finally:
        if d is not None:
            pids = list(dict.fromkeys(
                pids + descendants(service.process.pid)))
            try:
                d.quit()
            except WebDriverException:
                pass
        try:
            service.stop()
        except Exception:
            pass
        time.sleep(0.2)
        kill_by_pid(pids[1:], profile)
        kill_by_pid(pids[:1], 'chromedriver')
        foreign.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    seen['pids'] = pids
    seen['profile removed'] = not os.path.exists(profile)
    print(json.dumps(seen))


if __name__ == '__main__':
    main()
