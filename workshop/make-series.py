#!/usr/bin/python3
"""Write the project as a git format-patch series against the pristine base.

Usage: make-series.py REPO PRISTINE WORKDIR OUTDIR

WORKDIR/base.git is a git repository of the pristine base (made once);
the series is committed in WORKDIR/work following workshop/series.txt and
exported with git format-patch into OUTDIR.
"""
import os
import shutil
import subprocess
import sys

AUTHOR = 'QEMU VT-d developers <vtd-dev@example.invalid>'
DATE = '2026-01-01T00:00:00+00:00'


def git(cwd, *args, env=None, capture=False):
    e = dict(os.environ)
    e.update({'GIT_AUTHOR_NAME': 'QEMU VT-d developers',
              'GIT_AUTHOR_EMAIL': 'vtd-dev@example.invalid',
              'GIT_COMMITTER_NAME': 'QEMU VT-d developers',
              'GIT_COMMITTER_EMAIL': 'vtd-dev@example.invalid',
              'GIT_AUTHOR_DATE': DATE, 'GIT_COMMITTER_DATE': DATE})
    if env:
        e.update(env)
    r = subprocess.run(['git', '-c', 'core.autocrlf=false'] + list(args),
                       cwd=cwd, env=e, check=True, text=True,
                       stdout=subprocess.PIPE if capture else None)
    return r.stdout if capture else None


def parse_series(path):
    entries = []
    cur = None
    for raw in open(path):
        line = raw.rstrip('\n')
        if line.startswith('#'):
            continue
        if line.startswith('[') and line.endswith(']'):
            cur = {'subject': line[1:-1], 'body': [], 'remove': [],
                   'add': [], 'patch': []}
            entries.append(cur)
            continue
        if cur is None:
            continue
        key = line.split(':', 1)[0]
        if key in ('remove', 'add', 'patch') and ':' in line:
            cur[key] += line.split(':', 1)[1].split()
        else:
            cur['body'].append(line)
    return entries


def overlay_files(repo):
    out = subprocess.run(['git', 'ls-files', '--cached', '--others',
                          '--exclude-standard', '--', 'hw', 'include',
                          'tests', 'docs'], cwd=repo, check=True, text=True,
                         stdout=subprocess.PIPE).stdout.split()
    return sorted(f for f in out if os.path.isfile(os.path.join(repo, f)))


def expand(repo, paths):
    files = []
    for p in paths:
        full = os.path.join(repo, p)
        if os.path.isdir(full):
            for root, _, names in os.walk(full):
                for n in names:
                    files.append(os.path.relpath(os.path.join(root, n), repo))
        elif os.path.isfile(full):
            files.append(p)
        else:
            sys.exit(f'series: {p} does not exist')
    return sorted(files)


def ensure_base(pristine, base):
    stamp = os.path.join(base, '.series-base-stamp')
    want = open(os.path.join(pristine, '.base-stamp')).read()
    if os.path.exists(stamp) and open(stamp).read() == want:
        return
    shutil.rmtree(base, ignore_errors=True)
    subprocess.run(['cp', '-a', pristine, base], check=True)
    os.unlink(os.path.join(base, '.base-stamp'))
    git(base, 'init', '-q', '-b', 'base')
    git(base, 'config', 'gc.auto', '0')
    git(base, 'add', '-A', '-f')
    git(base, 'commit', '-q', '-m', 'Debian qemu ' + want.strip())
    open(stamp, 'w').write(want)


def main():
    repo, pristine, workdir, outdir = [os.path.abspath(a)
                                       for a in sys.argv[1:5]]
    entries = parse_series(os.path.join(repo, 'workshop', 'series.txt'))
    os.makedirs(workdir, exist_ok=True)
    base = os.path.join(workdir, 'base.git')
    ensure_base(pristine, base)

    listed = []
    patches = []
    for e in entries:
        e['files'] = expand(repo, e['add'])
        listed += e['files']
        patches += e['patch']
    overlay = overlay_files(repo)
    missing = sorted(set(overlay) - set(listed))
    extra = sorted(set(listed) - set(overlay))
    dup = sorted({f for f in listed if listed.count(f) > 1})
    all_patches = sorted(os.listdir(os.path.join(repo, 'patches')))
    unlisted = sorted(set(all_patches) - set(patches))
    if missing or extra or dup or unlisted:
        sys.exit('series.txt does not match the overlay:\n'
                 f'  not in any patch: {missing + unlisted}\n'
                 f'  not in the overlay: {extra}\n  listed twice: {dup}')

    work = os.path.join(workdir, 'work')
    shutil.rmtree(work, ignore_errors=True)
    git(workdir, 'clone', '-q', base, work)
    git(work, 'config', 'gc.auto', '0')
    for e in entries:
        for f in e['remove']:
            git(work, 'rm', '-q', f)
        for f in e['files']:
            dst = os.path.join(work, f)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(repo, f), dst)
            git(work, 'add', '-f', f)
        for p in e['patch']:
            git(work, 'apply', '--index',
                os.path.join(repo, 'patches', p))
        body = '\n'.join(e['body']).strip()
        msg = e['subject'] + '\n\n' + body + '\n'
        git(work, 'commit', '-q', '-s', '-m', msg)

    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    git(work, 'format-patch', '-q', '-o', outdir, 'origin/base..HEAD')
    for p in sorted(os.listdir(outdir)):
        print(os.path.join(outdir, p))


if __name__ == '__main__':
    main()
