export declare const SAME_DATABASE: Set<string>;
export declare function databaseArgs(args: string[]): string[];
