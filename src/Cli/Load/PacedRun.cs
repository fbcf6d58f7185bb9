using System.Diagnostics;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Cli.Load;

/// <summary>
/// Closed and open loop: <see cref="LoadOptions.Connections"/> connections spread round robin over the servers,
/// each with <see cref="LoadOptions.Pipeline"/> lanes; a lane has one request in flight at a time. Request
/// <c>n</c> of the run goes to machine <c>n mod clients</c>.
/// </summary>
/// <remarks>
/// <para>Closed loop: lanes take the next request number from a shared counter and send at once.</para>
/// <para>Open loop: request <c>n</c> is due at <c>start + n / rate</c>. The requests are dealt to the connections in
/// blocks of <c>B</c> consecutive ones, round robin (<c>B</c>: the requests of about a millisecond, at most the
/// pipeline depth, at least 1), so every connection gets an equal share and writes up to <c>B</c> requests at once
/// instead of one or two each millisecond: at high rates, several times fewer writes and reads on both sides. A
/// connection's lanes take its requests in order, never before they are due, and count latency from the due time.
/// A lane that finishes a request takes the connection's next one at once if it is due (it reads the clock, no
/// timer); a lane that finds nothing due parks. One pacer thread wakes parked lanes: it sleeps until the next
/// request is due (about a millisecond at high rates: one timer wait per tick, not one per request), then, on each
/// connection with newly due requests, resumes as many parked lanes as there are due requests nobody took, one after
/// the other on its own thread, each until it has sent its request (so a busy thread pool does not delay the
/// sends); when a tick's sends take more than a quarter of a millisecond, the rest go to the thread pool. So a
/// request leaves at most about a tick after its due time when a lane is free; when every lane of its connection is
/// busy it waits for one, and that wait counts in its latency: a slow host cannot hide behind the generator (no
/// coordinated omission).</para>
/// <para>The hot path takes no lock and allocates only what <see cref="KmsConnection"/> needs per request and the
/// workstation name: parking is a reusable value-task source per lane and a compare-and-swap.</para>
/// <para>With <see cref="LoadOptions.ConnectPerRequest"/> (pipeline 1) a worker holds no connection: its one lane
/// sends each request through its <see cref="ConnectPerRequestClient"/> on a connection of its own, scheduled
/// the same way. Per request that allocates the socket, the answer's host name and the workstation name: the
/// client reuses its buffers, socket event args and timer.</para>
/// </remarks>
internal sealed partial class PacedRun : LoadRun
{
    private readonly Worker[] _workers;
    private readonly long _limit;
    private readonly double _ticksPerRequest;
    private readonly int _block;
    private readonly TimeSpan _connectTimeout;
    private long _next;
    private CancellationTokenRegistration _wakeWhenStopping;

    public PacedRun(LoadOptions options, Fleet fleet, Action<LoadProgress>? progress) : base(options, fleet, progress)
    {
        _workers = new Worker[options.Connections];
        for (var c = 0; c < _workers.Length; c++)
        {
            _workers[c] = new Worker(this, c, options.Servers[c % options.Servers.Count], options.Pipeline)
            {
                PerRequest = options.ConnectPerRequest ? new ConnectPerRequestClient(Stats.For(c), options.ProtocolVersion) : null,
            };
        }
        _limit = options.Requests ?? long.MaxValue;
        _ticksPerRequest = options.Rate is { } rate ? Stopwatch.Frequency / rate : 0;
        _block = BlockSize(options.Rate ?? 0, options.Pipeline);
        _connectTimeout = ConnectTimeout(options);
    }

    /// <summary>Open loop: the requests due in about a millisecond, at most <paramref name="pipeline"/>, at least 1.</summary>
    internal static int BlockSize(double rate, int pipeline) => (int)Math.Clamp(Math.Floor(rate / 1000), 1, pipeline);

    /// <summary>Open loop: the request number of slot <paramref name="slot"/> of connection <paramref name="connection"/>
    /// when blocks of <paramref name="block"/> go round robin to <paramref name="connections"/> connections.</summary>
    internal static long RequestNumber(int connection, long slot, int connections, int block) =>
        (slot / block * connections + connection) * block + slot % block;

    /// <summary>Open loop: the connection that sends request <paramref name="n"/>.</summary>
    internal static int ConnectionOf(long n, int connections, int block) => (int)(n / block % connections);

    private long RequestNumber(Worker worker, long slot) => RequestNumber(worker.Index, slot, _workers.Length, _block);

    private protected override async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var timeout = ConnectTimeout(Options);
        if (Options.ConnectPerRequest)
        {
            // Nothing stays open; each server is checked once so that a wrong address fails before the run.
            await ProbeAsync(Options.Servers, timeout, cancellationToken);
            return;
        }
        // Servers no connection goes to (fewer connections than servers) are checked too.
        await ProbeAsync(Options.Servers.Skip(_workers.Length), timeout, cancellationToken);
        var connecting = _workers.Select(w => w.ConnectAsync(timeout, cancellationToken)).ToArray();
        try
        {
            await Task.WhenAll(connecting);
        }
        catch (KmsConnectionException)
        {
            var failure = connecting.First(t => t.IsFaulted).Exception!.InnerException!;
            throw new LoadUnreachableException(failure.Message, failure);
        }
    }

    private protected override Task[] StartWorkers()
    {
        var open = Options.Mode == LoadMode.Open;
        var tasks = new List<Task>(_workers.Length * Options.Pipeline + 1);
        for (var c = 0; c < _workers.Length; c++)
        {
            var worker = _workers[c];
            var shard = Stats.For(c);
            foreach (var lane in worker.Lanes)
            {
                tasks.Add(Task.Run(() => LaneAsync(worker, lane, shard, open)));
            }
        }
        if (open)
        {
            _wakeWhenStopping = Stopping.UnsafeRegister(static run => ((PacedRun)run!).WakeEveryConnection(), this);
            // Its own thread: the pacer is on time even when the thread pool is busy.
            tasks.Add(Task.Factory.StartNew(Pace, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
        }
        return [.. tasks];
    }

    private protected override async ValueTask CloseAsync()
    {
        await _wakeWhenStopping.DisposeAsync();
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }
    }

    /// <summary>One request in flight at a time, until the run stops or the requests run out. Everything per
    /// request happens in this one method, so its state machine is allocated once per lane, not per request.</summary>
    private async Task LaneAsync(Worker worker, Lane lane, LoadStats.Shard shard, bool open)
    {
        var machines = Fleet.Count;
        while (!Stopping.IsCancellationRequested)
        {
            long n;
            long since;
            if (open)
            {
                var slot = TryTake(worker, out n, out since);
                if (slot == Slot.NotDue)
                {
                    await ParkAsync(worker, lane);
                    continue;
                }
                if (slot == Slot.None)
                {
                    // The connection's last slot is taken: its parked lanes are done too.
                    worker.ScheduleWake();
                    return;
                }
            }
            else
            {
                n = Interlocked.Increment(ref _next) - 1;
                if (n >= _limit)
                {
                    return;
                }
                since = 0;
            }

            if (worker.PerRequest is { } perRequest)
            {
                // Its own connection: latency includes connecting (closed loop: from just before; open loop: from the due time).
                var ownRequest = RequestFor((int)(n % machines), LicenseState.InitialGrace, 43200);
                since = open ? since : Stopwatch.GetTimestamp();
                var outcome = await perRequest.ActivateAsync(worker.Server, ownRequest, _connectTimeout, Options.Timeout);
                if (!shard.Record(outcome, since))
                {
                    return;
                }
                continue;
            }
            var connection = worker.Current;
            if (!connection.IsOpen && (connection = await worker.ReconnectAsync()) is null)
            {
                return;
            }
            var request = RequestFor((int)(n % machines), LicenseState.InitialGrace, 43200);
            if (!open)
            {
                since = Stopwatch.GetTimestamp();
            }
            try
            {
                // No cancellation token: closing the connections at the end fails what is still in flight.
                var result = await connection.ActivateAsync(request, Options.Timeout);
                shard.Record(result, LoadStats.MicrosecondsSince(since));
            }
            catch (TimeoutException)
            {
                shard.RecordNoAnswer();
            }
            catch (KmsConnectionException)
            {
                if (Abandoning.IsCancellationRequested)
                {
                    return;
                }
                shard.RecordNoAnswer();
            }
        }
    }

    private enum Slot
    {
        /// <summary>Taken: the request is due (or late) and the caller sends it.</summary>
        Taken,

        /// <summary>The connection's next slot is not due yet.</summary>
        NotDue,

        /// <summary>The connection has no more slots (the request count or the duration is reached).</summary>
        None,
    }

    /// <summary>When request <paramref name="n"/> is due (a <see cref="Stopwatch"/> timestamp).</summary>
    private long Due(long n) => StartTimestamp + (long)(n * _ticksPerRequest);

    private bool IsBeyondEnd(long n) => n >= _limit || Due(n) >= EndTimestamp;

    /// <summary>Open loop: takes the connection's next slot if it is due.</summary>
    private Slot TryTake(Worker worker, out long n, out long due)
    {
        while (true)
        {
            var slot = Volatile.Read(ref worker.Taken);
            n = RequestNumber(worker, slot);
            due = Due(n);
            if (IsBeyondEnd(n))
            {
                return Slot.None;
            }
            if (due > Stopwatch.GetTimestamp())
            {
                return Slot.NotDue;
            }
            if (Interlocked.CompareExchange(ref worker.Taken, slot + 1, slot) == slot)
            {
                return Slot.Taken;
            }
        }
    }

    /// <summary>Waits until the pacer (or the end of the run) wakes the lane. It parks first and then looks once more
    /// whether a slot is due or the run is over, so a wake-up cannot fall between its look and its parking.</summary>
    private ValueTask ParkAsync(Worker worker, Lane lane)
    {
        lane.Park();
        if (Stopping.IsCancellationRequested || HasSlot(worker))
        {
            if (lane.TryUnpark())
            {
                return ValueTask.CompletedTask;
            }
            // Woken meanwhile: the wait completes at once.
        }
        return lane.WaitAsync();
    }

    /// <summary>The connection's next slot is due, or there are none left.</summary>
    private bool HasSlot(Worker worker)
    {
        var n = RequestNumber(worker, Volatile.Read(ref worker.Taken));
        return IsBeyondEnd(n) || Due(n) <= Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// The pacer: sleeps until the next request is due, then wakes parked lanes for the newly due slots nobody took.
    /// Busy lanes take due slots themselves when they finish, and a lane that parks later sees a due slot itself, so
    /// each slot needs looking at once, in the tick it becomes due.
    /// </summary>
    private void Pace()
    {
        var connections = _workers.Length;
        var budget = Stopwatch.Frequency / 4000; // a quarter millisecond of sending on this thread per tick
        long released = 0; // requests 0 .. released - 1 were due at an earlier tick
        while (!Stopping.IsCancellationRequested)
        {
            var now = Stopwatch.GetTimestamp();
            var due = DueBy(now);
            var firstBlock = released / _block;
            var lastBlock = (due - 1) / _block;
            if (due > released && lastBlock - firstBlock + 1 >= connections)
            {
                foreach (var worker in _workers)
                {
                    Nudge(worker, now, now + budget);
                }
            }
            else
            {
                for (var b = firstBlock; due > released && b <= lastBlock; b++)
                {
                    Nudge(_workers[b % connections], now, now + budget);
                }
            }
            released = Math.Max(released, due);
            if (IsBeyondEnd(released))
            {
                return; // nothing more becomes due; lanes that find no slot wake their parked siblings
            }
            var wait = Due(released) - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                // Whole milliseconds, rounded up (a wait never ends early): about one tick a millisecond at high rates.
                var milliseconds = (int)Math.Clamp(Math.Ceiling(wait * 1000.0 / Stopwatch.Frequency), 1, 1000);
                Stopping.WaitHandle.WaitOne(milliseconds);
            }
        }
    }

    /// <summary>How many requests are due at <paramref name="now"/>: the least <c>n</c> with <c>Due(n) &gt; now</c>,
    /// capped at the request count. Uses <see cref="Due"/> itself, so the pacer and the lanes agree to the tick.</summary>
    private long DueBy(long now)
    {
        var n = Math.Max(0, (long)((now - StartTimestamp) / _ticksPerRequest));
        while (n > 0 && Due(n - 1) > now)
        {
            n--;
        }
        while (n < _limit && Due(n) <= now)
        {
            n++;
        }
        return Math.Min(n, _limit);
    }

    /// <summary>When <paramref name="worker"/> has a due slot nobody took, wakes its parked lanes for its due slots:
    /// on this thread until <paramref name="inlineUntil"/>, then by queuing the worker to the thread pool (only when a
    /// lane is parked; one that parks after this look sees the due slot itself).</summary>
    private void Nudge(Worker worker, long now, long inlineUntil)
    {
        var n = RequestNumber(worker, Volatile.Read(ref worker.Taken));
        if (IsBeyondEnd(n) || Due(n) > now)
        {
            return;
        }
        if (Stopwatch.GetTimestamp() < inlineUntil)
        {
            WakeDue(worker);
            return;
        }
        foreach (var lane in worker.Lanes)
        {
            if (lane.IsParked)
            {
                worker.ScheduleWake();
                return;
            }
        }
    }

    /// <summary>Resumes as many parked lanes of <paramref name="worker"/> as it has due slots that no lane took yet
    /// (every parked lane when the run stops or the connection has no slots left). Runs on the pacer thread or in the
    /// worker's thread-pool item, and the lanes run on in it until they await their answers.</summary>
    private void WakeDue(Worker worker)
    {
        var lanes = worker.Lanes;
        var first = Volatile.Read(ref worker.Taken);
        int ready;
        if (Stopping.IsCancellationRequested || IsBeyondEnd(RequestNumber(worker, first)))
        {
            ready = lanes.Length;
        }
        else
        {
            var now = Stopwatch.GetTimestamp();
            ready = 0;
            while (ready < lanes.Length)
            {
                var n = RequestNumber(worker, first + ready);
                if (IsBeyondEnd(n) || Due(n) > now)
                {
                    break;
                }
                ready++;
            }
        }
        for (var l = 0; l < lanes.Length && ready > 0; l++)
        {
            if (lanes[l].Wake())
            {
                ready--;
            }
        }
    }

    private void WakeEveryConnection()
    {
        foreach (var worker in _workers)
        {
            worker.ScheduleWake();
        }
    }
}
